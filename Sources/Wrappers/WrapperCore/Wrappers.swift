/// The clean interface layer of seed 004 §6 that the curation programs call.
public enum Wrappers {}

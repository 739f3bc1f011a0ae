import FITS

/// Writes WFCAM-like nights the way CASU delivers them (see docs/simulator.md).
public enum SimulatorKit {}

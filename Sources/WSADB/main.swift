import SimulatorKit
print("wfcamsim: not built yet")

// The wrapper layer as a curation program sees it: one module, `Wrappers`.
//
// The layer is built as four targets, each above the last (AppDriver → WrapperCore → Drivers →
// Wrappers), so that the compiler holds its own layering: the drivers cannot reach the CUs'
// context, and only WrapperCore's QueryHandler sees libpq. A CU imports `Wrappers` and
// swift-argument-parser and nothing else (docs/architecture.md); the targets below are
// re-exported here so that their public types (FrameType, StackInput, WrapperError, …) are
// members a CU can name with that one import.
@_exported public import AppDriver
@_exported public import WrapperCore
@_exported public import Drivers
// The contract's one type a CU writes itself: the arguments of `DbHandler.callProcedure`. Only
// it, so that the rest of the wire contract stays below the layer.
@_exported public import enum RPCContract.ProcedureArgument

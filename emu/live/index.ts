// The run stage's second target: the running Linux kernel instead of the modeled one. An
// object parsed by src/elf is loaded through bpf() as libbpf 1.1 loads it (koracle's way), so
// that the kernel's xlated and JIT bytes can be compared with tailjit's, and scenarios, test
// runs and conformance tests run on the real kernel. Everything lives in file descriptors of
// this process (nothing pinned, nothing attached) and is closed by `close()`.
//
// API (kept stable for other callers: the fuzzer, the ELF writer's tests):
//
//   liveAvailability(): { ok: true } | { ok: false; reason }     may this process use bpf()?
//   kernelRelease(): string                                        uname -r
//   LiveObject.load(obj: ObjectFile): LiveObject                   maps, BTF, programs, slots
//     .programs: Map<name, LiveProgram>   .failures: Map<name, LiveError> (verifier's log in .log)
//     .run(prog, { dataSize?, repeat?, data?, ctx? }) -> { retval, duration_ns }
//     .updateSlot(map, slot, prog | null)   .setvar(name, value)   .reset()
//     .globals(): GlobalsSnapshot           .programInfo(name): ScenarioProgram
//     .readMap(name, key?) / .writeMap(name, value, key?)         raw values (array maps)
//     .close()
//   runScenarioLive(sc: Scenario, opts?): ScenarioResult           emu/scenario.ts's shape
//   liveConformanceBackend(): Backend                               src/conformance's Backend
//   runWrapped(name, insns, mem, repeat?) -> { r0 (64-bit), retval, duration_ns, info }
//     a raw program (no ELF) as a subprogram: r1 = mem (an array map value), r2 = its length
//   runFileLive(file, opts) / formatLiveRunReport(report)         `tailjit run --backend kernel`
//   progLoad(req) / progInfo(fd) / createArrayMap / mapLookup / mapUpdate / testRun   the raw pieces
//   maskJited(hex, funcLens, ksyms) / maskXlated(hex)               bytes modulo addresses / map ids
//   compareResults(a: ScenarioResult, b: ScenarioResult): Difference[]
//
// Errors are LiveError (a TailjitError): `code` 'live.unavailable' when bpf() is not permitted,
// 'live.bpf' for a failed command (with `errno` and `errnoName`), 'live.rejected' for a program
// the verifier refused (its last log line in the message, the whole log in `log`).

export { LiveError, liveAvailability, liveObjectIds, kernelRelease, type LiveAvailability } from './bpf.js';
export { LiveObject, type LiveProgram, type LiveRunRequest, type LiveRunResult, type LiveScenarioProgram } from './object.js';
export { runScenarioLive, runScenarioFileLive, type LiveScenarioOptions } from './scenario.js';
export { liveConformanceBackend, runWrapped, type WrappedRun } from './conformance.js';
export { runFileLive, formatLiveRunReport, type LiveRunReport, type LiveRunFileOptions } from './run.js';
export { progLoad, progInfo, createArrayMap, mapLookup, mapUpdate, testRun, type ProgLoadRequest, type ProgInfo } from './object.js';
export { maskJited, maskXlated, compareResults, type Difference } from './compare.js';

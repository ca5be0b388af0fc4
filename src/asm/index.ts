export { AsmError, type AsmErrorCode } from './errors.js';
export { assemble, assembleProgram, type AssembleOptions, type AssembledProgram } from './assembler.js';
export { disassemble, disassembleText, formatInsn, type DisasmLine, type DisasmOptions } from './disassembler.js';
export {
  parseDataFile, readDataFile, dataFileProgram, rawToBytes,
  type DataFile, type DataFileOptions, type SectionKind,
} from './datafile.js';
export {
  kernelInsn, kernelListing, type KernelFormatOptions, type KernelListingOptions, type KernelListingStyle,
} from './kernel.js';
export { helperName, helperId, LINUX_5_10_LAST_HELPER } from './helper-names.js';
export { ProgramBuilder } from './builder.js';

export * from './opcode.js';
export * from './insn.js';
export * from './table.js';

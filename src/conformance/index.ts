export * from './runner.js';
export { loadDataCase } from './data-case.js';
export { interpBackend } from './interp-backend.js';
export { collectDataFiles } from './files.js';

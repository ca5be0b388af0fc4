// `tailjit test`'s library: discovery, running (in-process or worker threads), golden
// comparison and reporters.

export { caseId, collectSuiteFiles, parseShard, planSuite, SuiteError, type Shard } from './discover.js';
export { compareRun, findRunGolden, listingGoldenPath, releaseFolder, type RunGolden } from './golden.js';
export { diffLines, hunks, unifiedDiff, type Edit } from './diff.js';
export { placeOf, scenarioListing, withSourceLines } from './listing.js';
export { describeChanges, runWorkItem } from './run-item.js';
export { runSuite, workerScript, type SuiteRunOptions } from './run-suite.js';
export { REPORTERS, report, summaryLine, xmlEscape, type ReporterName } from './reporters.js';
export { summarizeOutcomes, type CaseOutcome, type CaseStatus, type SuiteSummary, type WorkItem } from './types.js';

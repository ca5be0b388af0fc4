// The fuzzer's rate: programs per second for the interpreter + the emulated JIT, and with the
// live kernel too when the profile is the host's (each program: generate, write the object,
// the work-bound check on the interpreter, then every backend's answer and the comparison).
// The same seed and indices in each configuration; configurations alternate, `rounds` times.
//
//   node dist/bench/fuzz-rate.js [COUNT] [PROFILE] [ROUNDS]

import { Fuzzer, hostProfileName } from '../emu/fuzz/run.js';
import { liveAvailability, runScenarioLive } from '../emu/live/index.js';
import { getProfile } from '../src/profile/index.js';

const count = Number(process.argv[2] ?? 500);
const profile = getProfile(process.argv[3] ?? 'linux-6.18');
const rounds = Number(process.argv[4] ?? 3);
const liveOk = hostProfileName() === profile.name && liveAvailability().ok;
const configs = [{ name: 'interp+emulated', live: false }, ...(liveOk ? [{ name: 'interp+emulated+live', live: true }] : [])];
const rates = new Map<string, number[]>(configs.map((c) => [c.name, []]));
for (let r = 0; r < rounds; r++) {
  for (const c of configs) {
    const f = new Fuzzer({ profile, live: c.live }, (sc) => runScenarioLive(sc));
    const t0 = performance.now();
    let bad = 0;
    for (let i = 0; i < count; i++) if (f.one(1000 + r, i, '/tmp/fuzz-rate-out').status === 'disagree') bad++;
    const s = (performance.now() - t0) / 1000;
    f.close();
    rates.get(c.name)!.push(count / s);
    console.log(`round ${r + 1} ${c.name}: ${count} programs in ${s.toFixed(2)} s = ${(count / s).toFixed(1)} programs/s (${bad} disagreements)`);
  }
}
for (const [name, xs] of rates) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(`${name} on ${profile.name}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} programs/s (min ${sorted[0].toFixed(1)}, max ${sorted[sorted.length - 1].toFixed(1)})`);
}
if (!liveOk) console.log(`live kernel not measured: the profile ${profile.name} is not the host's (${hostProfileName() ?? 'unmodeled'}) or bpf() is not permitted`);

// Preloaded into a timed Node process (NODE_OPTIONS=--require): at exit, writes its peak resident set size in
// kilobytes (process.resourceUsage().maxRSS) to the file named by $BENCH_PEAK_RSS_FILE.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const file = process.env.BENCH_PEAK_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});

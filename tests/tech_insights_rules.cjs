// Runs Tech Insights json-rules-engine checks on facts, as the jsonfc fact checker does.
// stdin: {"checks": {name: {rule: {conditions}}}, "facts": {...}}; stdout: {name: true|false}.
const { Engine } = require('json-rules-engine');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const { checks, facts } = JSON.parse(input);
  const verdicts = {};
  for (const [name, check] of Object.entries(checks)) {
    const engine = new Engine([], { allowUndefinedFacts: true });
    engine.addRule({ conditions: check.rule.conditions, event: { type: name } });
    const { events } = await engine.run(facts);
    verdicts[name] = events.length > 0;
  }
  process.stdout.write(JSON.stringify(verdicts));
});

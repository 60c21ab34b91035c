// Runs os-types' model builder, as OpenSpending's packager and loader do, on each package's fields.
// stdin: [{"package": name, "fields": [{name, title, type}]}]; stdout: [{"package": name, "errors": {...} | null}].
'use strict';
const OSTypes = require('os-types');

async function check(item) {
  const result = new OSTypes().fieldsToModel(item.fields);
  // Data samples are cast asynchronously and add their errors when the promise settles.
  if (result.promise) {
    await result.promise;
  }
  const errors = result.errors || null;
  return { package: item.package, errors: errors, model: errors ? null : result.model };
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) {
    input += chunk;
  }
  const results = [];
  for (const item of JSON.parse(input)) {
    results.push(await check(item));
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});

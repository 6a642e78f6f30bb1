// Validates OpenAPI documents with two independent validators: the official OpenAPI 3.0 JSON
// Schema (@seriousme/openapi-schema-validator, strict) and swagger-parser (which also checks
// $refs, unique operationIds and that every templated path parameter is declared).
// usage: node validate.mjs FILE.json...   exit 0 when every file is valid.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import SwaggerParser from "@apidevtools/swagger-parser";

let failed = false;
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(readFileSync(file, "utf8"));
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  if (!result.valid) {
    failed = true;
    console.error(`${file}: not a valid OpenAPI ${validator.version} document:`);
    console.error(JSON.stringify(result.errors, null, 2).slice(0, 4000));
  }
  try {
    await SwaggerParser.validate(structuredClone(doc));
  } catch (e) {
    failed = true;
    console.error(`${file}: swagger-parser: ${e.message}`);
  }
  if (!failed) {
    const ops = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    console.log(`${file}: valid OpenAPI ${doc.openapi}, ${Object.keys(doc.paths).length} paths, ${ops} operations`);
  }
}
process.exit(failed ? 1 : 0);

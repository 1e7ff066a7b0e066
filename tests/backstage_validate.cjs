#!/usr/bin/env node
// Validate one Backstage catalog entity, given as JSON on stdin, with the validators that
// Backstage's own catalog model package ships (@backstage/catalog-model): the entity
// policies the catalog applies on ingestion (envelope schema, default namespace, no
// foreign root fields, field formats) and the schema of the entity's kind. The owner and
// system are entity references, so they must parse into a valid kind, namespace and name.
//
// Usage: node tests/backstage_validate.cjs < entity.json
// The package is found by Node's module resolution: set NODE_PATH to the node_modules
// folder that holds it (tests/test_catalog.py does, from SCAFFOLD_NODE_MODULES).
// Exit 0 and the entity's reference on stdout when valid; exit 1 and the reason on
// stderr when not; exit 2 when the package cannot be loaded.
"use strict";

const fs = require("fs");

let model;
try {
  model = require("@backstage/catalog-model");
} catch (error) {
  process.stderr.write(`cannot load @backstage/catalog-model: ${error.message}\n`);
  process.exit(2);
}

// Relation fields of the kinds this script accepts, and the kinds each may point at
// (the Component kind's relation fields in @backstage/catalog-model).
const REFERENCES = {
  owner: { defaultKind: "Group", allowedKinds: ["group", "user"] },
  system: { defaultKind: "System", allowedKinds: ["system"] },
};

function checkReference(field, value, namespace) {
  const { defaultKind, allowedKinds } = REFERENCES[field];
  let ref;
  try {
    ref = model.parseEntityRef(value, { defaultKind, defaultNamespace: namespace });
  } catch (error) {
    throw new Error(`spec.${field} "${value}" is not an entity reference: ${error.message}`);
  }
  const validators = model.makeValidator();
  if (!allowedKinds.includes(ref.kind.toLowerCase())) {
    throw new Error(`spec.${field} "${value}" must refer to a ${allowedKinds.join(" or ")}, not a ${ref.kind}`);
  }
  if (!validators.isValidNamespace(ref.namespace)) {
    throw new Error(`spec.${field} "${value}" has an invalid namespace "${ref.namespace}"`);
  }
  if (!validators.isValidEntityName(ref.name)) {
    throw new Error(`spec.${field} "${value}" has an invalid entity name "${ref.name}"`);
  }
}

async function validate(entity) {
  const policy = model.EntityPolicies.allOf([
    new model.SchemaValidEntityPolicy(),
    new model.DefaultNamespaceEntityPolicy(),
    new model.NoForeignRootFieldsEntityPolicy(),
    new model.FieldFormatEntityPolicy(),
  ]);
  const enforced = await policy.enforce(entity);
  if (!enforced) {
    throw new Error("the entity policies did not accept the entity");
  }
  // A kind validator answers false for another kind and throws for an invalid entity of its own.
  if (!(await model.componentEntityV1alpha1Validator.check(enforced))) {
    throw new Error(`kind ${enforced.kind} (${enforced.apiVersion}) is not a Component`);
  }
  for (const field of Object.keys(REFERENCES)) {
    if (enforced.spec[field] !== undefined) {
      checkReference(field, enforced.spec[field], enforced.metadata.namespace);
    }
  }
  return model.stringifyEntityRef(enforced);
}

let entity;
try {
  entity = JSON.parse(fs.readFileSync(0, "utf8"));
} catch (error) {
  process.stderr.write(`stdin is not a JSON document: ${error.message}\n`);
  process.exit(1);
}
validate(entity).then(
  (ref) => process.stdout.write(`${ref}\n`),
  (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);

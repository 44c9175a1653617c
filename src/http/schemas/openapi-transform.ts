import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { responseHeaders } from './response-headers.ts';

const zodTransform = createJsonSchemaTransform({});
const schemaRefPrefix = '#/components/schemas/';
/** What @fastify/swagger writes when a response has no description of its own. */
const fastifySwaggerPlaceholder = 'Default Response';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * fastify-type-provider-zod's route transform, keeping the `headers` of a `documented()` response (it keeps
 * only the description and content), so @fastify/swagger documents them.
 */
export const openapiTransform: SwaggerTransform = (input) => {
  const transformed = zodTransform(input as Parameters<typeof zodTransform>[0]);
  const declared = input.schema?.response;
  const responses = transformed.schema?.response;
  if (isObject(declared) && isObject(responses)) {
    for (const [status, response] of Object.entries(declared)) {
      const target = responses[status];
      if (isObject(response) && isObject(response.headers) && isObject(target)) {
        target.headers = response.headers;
      }
    }
  }
  return transformed;
};

/** Every `$ref` to a named schema anywhere under `value`. */
function schemaRefs(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) schemaRefs(item, found);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(schemaRefPrefix)) {
        found.add(child.slice(schemaRefPrefix.length));
      } else {
        schemaRefs(child, found);
      }
    }
  }
  return found;
}

function renameRefs(value: unknown, renamed: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, renamed));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(schemaRefPrefix)) {
        const name = child.slice(schemaRefPrefix.length);
        return [key, `${schemaRefPrefix}${renamed.get(name) ?? name}`];
      }
      return [key, renameRefs(child, renamed)];
    }),
  );
}

/**
 * A request schema's optional field with a default, its default said in words instead of `default`:
 * openapi-typescript (by default) types a named schema's field that has a default as always present, which
 * is true of a response but would make a client send `size` and `enhance_prompt` on every request.
 */
function requestDefaultsDescribed(schema: unknown): unknown {
  if (!isObject(schema) || !isObject(schema.properties)) return schema;
  const required = Array.isArray(schema.required) ? schema.required : [];
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([name, property]) => {
      if (!isObject(property) || !('default' in property) || required.includes(name)) return [name, property];
      const { default: value, ...rest } = property;
      const said = `Default: \`${JSON.stringify(value)}\`.`;
      return [
        name,
        {
          ...rest,
          description:
            typeof rest.description === 'string' ? `${rest.description.replace(/\.?$/, '.')} ${said}` : said,
        },
      ];
    }),
  );
  return { ...schema, properties };
}

/**
 * fastify-type-provider-zod emits every registered schema twice, as read (`FooInput`) and as written
 * (`Foo`). Keeps only the ones the operations use, under their own names: a request body used only as
 * input is `ImageGenerationRequest`, not `ImageGenerationRequestInput`.
 */
function keepUsedSchemas(document: Json): Json {
  const components = isObject(document.components) ? document.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  const used = new Set<string>();
  let frontier = [...schemaRefs(document.paths)];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const name of frontier) {
      if (used.has(name)) continue;
      used.add(name);
      next.push(...schemaRefs(schemas[name]));
    }
    frontier = next;
  }
  const renamed = new Map<string, string>();
  for (const name of used) {
    const plain = name.replace(/Input$/, '');
    if (plain !== name && !used.has(plain)) renamed.set(name, plain);
  }
  const kept = [...used].map((name) => {
    const schema = renameRefs(schemas[name], renamed);
    const plain = renamed.get(name);
    return plain === undefined
      ? ([name, schema] as const)
      : ([plain, requestDefaultsDescribed(schema)] as const);
  });
  return {
    ...document,
    paths: renameRefs(document.paths, renamed),
    components: {
      ...components,
      schemas: Object.fromEntries(kept.sort(([left], [right]) => left.localeCompare(right))),
    },
  };
}

/**
 * Every reply carries `x-request-id` (set in an onRequest hook), so every documented response says so; a
 * response declared as a bare schema is described by its schema's description.
 */
function completeResponses(document: Json): Json {
  const [name, schema] = Object.entries(responseHeaders.requestId)[0] as [string, Json];
  const { description, ...headerSchema } = schema;
  const header = { description, schema: headerSchema };
  const schemas =
    isObject(document.components) && isObject(document.components.schemas) ? document.components.schemas : {};
  for (const pathItem of Object.values(isObject(document.paths) ? document.paths : {})) {
    for (const operation of Object.values(isObject(pathItem) ? pathItem : {})) {
      if (!isObject(operation) || !isObject(operation.responses)) continue;
      for (const response of Object.values(operation.responses)) {
        if (!isObject(response)) continue;
        response.headers = { ...(isObject(response.headers) ? response.headers : {}), [name]: header };
        if (response.description === fastifySwaggerPlaceholder) {
          const [body] = schemaRefs(response.content);
          const named = body === undefined ? undefined : schemas[body];
          if (isObject(named) && typeof named.description === 'string')
            response.description = named.description;
        }
      }
    }
  }
  return document;
}

/** The document-level transform: named schemas from zod's registry, tidied, and complete responses. */
export const openapiTransformObject: SwaggerTransformObject = (input) => {
  const document = jsonSchemaTransformObject(input) as Json;
  return completeResponses(keepUsedSchemas(document)) as ReturnType<SwaggerTransformObject>;
};

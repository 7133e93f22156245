/**
 * The session's search attributes on a Temporal server: the worker checks at
 * start that every one exists with its type (an upsert of an unknown attribute
 * fails the workflow task, so a send would hang in retries), and test servers
 * get them registered. Names and types come from contract/search-attributes.ts.
 */
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType, type SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { OTP_SEARCH_ATTRIBUTE_KEYS, searchAttributeCliType, searchAttributeCreateCommands } from '../contract';

type OperatorService = Pick<Connection['operatorService'], 'listSearchAttributes' | 'addSearchAttributes'>;
type Key = SearchAttributeKey<SearchAttributeType>;

/** gRPC status of a method the server does not implement (the time-skipping test server has no ListSearchAttributes). */
const UNIMPLEMENTED = 12;

export class SearchAttributesMissingError extends Error {
  constructor(
    readonly namespace: string,
    readonly missing: readonly Key[],
    readonly address: string,
  ) {
    super(
      `Temporal namespace "${namespace}" on ${address} lacks the search attributes the OTP session writes: ` +
        `${missing.map((k) => `${k.name} (${searchAttributeCliType(k.type)})`).join(', ')}. ` +
        `Sessions would fail their workflow tasks, so this worker does not start. Create them once per namespace, then start the worker again:\n  ` +
        searchAttributeCreateCommands(namespace, missing).join('\n  '),
    );
    this.name = 'SearchAttributesMissingError';
  }
}

/** `--search-attribute Name=Type` flags for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(keys: readonly Key[] = OTP_SEARCH_ATTRIBUTE_KEYS): string[] {
  return keys.flatMap((k) => ['--search-attribute', `${k.name}=${searchAttributeCliType(k.type)}`]);
}

/**
 * Throws SearchAttributesMissingError unless every session attribute exists with its type.
 * Returns 'unchecked' when the server cannot list them (the time-skipping test server).
 */
export async function checkSearchAttributes(operator: OperatorService, namespace: string, address: string): Promise<'ok' | 'unchecked'> {
  let custom: Record<string, unknown>;
  try {
    custom = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === UNIMPLEMENTED) return 'unchecked';
    throw err;
  }
  const missing = OTP_SEARCH_ATTRIBUTE_KEYS.filter((k) => custom[k.name] !== encodeSearchAttributeIndexedValueType(k.type));
  if (missing.length) throw new SearchAttributesMissingError(namespace, missing, address);
  return 'ok';
}

/** Registers every session attribute (test servers; on a cluster, ops run the create commands). */
export async function registerSearchAttributes(operator: OperatorService, namespace: string): Promise<void> {
  const searchAttributes = Object.fromEntries(OTP_SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]));
  await operator.addSearchAttributes({ namespace, searchAttributes });
}

/**
 * Registers the session attributes a dev server lacks. Its `--search-attribute` flags apply to a new
 * database only: a `data/temporal.sqlite` made before they existed keeps lacking them.
 */
export async function ensureSearchAttributes(operator: OperatorService, namespace: string): Promise<void> {
  const custom = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  const missing = OTP_SEARCH_ATTRIBUTE_KEYS.filter((k) => custom[k.name] === undefined);
  if (!missing.length) return;
  const searchAttributes = Object.fromEntries(missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]));
  await operator.addSearchAttributes({ namespace, searchAttributes });
}

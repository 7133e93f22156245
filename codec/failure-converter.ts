// Loaded by path (DataConverter.failureConverterPath) in clients, workers and
// the workflow bundle: error messages and stack traces travel encoded, so the
// payload codec encrypts them like any other payload.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

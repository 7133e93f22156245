/**
 * Verify OTP's outputs: Valid and Invalid branches, or one Result output for
 * AI agents (an agent's tool reads only the first output, so a failure on
 * Invalid would reach it as an empty result). n8n evaluates this function's
 * source in an expression: it must use nothing from outside itself.
 */
export const configuredOutputs = (parameters: { output?: string }) =>
  parameters.output === 'single'
    ? [{ type: 'main', displayName: 'Result' }]
    : [
        { type: 'main', displayName: 'Valid' },
        { type: 'main', displayName: 'Invalid' },
      ];

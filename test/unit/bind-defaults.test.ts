/** Issue 14: a bind's defaults and ranges are defined once (smpp/bind.ts); the settings and route files take them. */
import { BIND_DEFAULTS, BIND_RANGES } from '../../smpp/bind-defaults';
import { SETTINGS, loadConfig, ConfigError } from '../../config/config';
import { parseRoutes, RouteConfigError } from '../../config/routes-config';

const ENV = { TEMPORAL_ADDRESS: '127.0.0.1:7233' };
const route = (extra: Record<string, unknown>) => JSON.stringify([{ name: 'r', host: '127.0.0.1', port: 2775, systemId: 'otp', password: 'pw', ...extra }]);

test('the SMSC_* settings default to the bind defaults', () => {
  expect(SETTINGS.SMSC_WINDOW.default).toBe(String(BIND_DEFAULTS.window));
  expect(SETTINGS.SMSC_RESPONSE_TIMEOUT_MS.default).toBe(String(BIND_DEFAULTS.responseTimeoutMs));
  expect(SETTINGS.SMSC_ENQUIRE_LINK_MS.default).toBe(String(BIND_DEFAULTS.enquireLinkMs));
});

test('settings and route files refuse the same out-of-range values, naming them', () => {
  const [, max] = BIND_RANGES.window;
  expect(() => loadConfig({ ...ENV, SMSC_WINDOW: String(max + 1) }, 'worker')).toThrow(ConfigError);
  expect(() => parseRoutes(route({ window: max + 1 }), 'SMSC_ROUTES')).toThrow(RouteConfigError);
  expect(() => parseRoutes(route({ window: max + 1 }), 'SMSC_ROUTES')).toThrow(/window/);
  expect(parseRoutes(route({ window: max }), 'SMSC_ROUTES')[0].window).toBe(max);
});

test('a route file may set waitAckMs (the time a submit may stay in doubt before its session is re-bound)', () => {
  expect(parseRoutes(route({ waitAckMs: 30000 }), 'SMSC_ROUTES')[0].waitAckMs).toBe(30000);
  expect(parseRoutes(route({ waitAckMs: 0 }), 'SMSC_ROUTES')[0].waitAckMs).toBe(0);
  expect(() => parseRoutes(route({ waitAckMs: -1 }), 'SMSC_ROUTES')).toThrow(/waitAckMs/);
});

/** §3 session endpoints and §6 funds. */
import { type Route, fail, ok } from './rest.js';
import { fmtOrderTime, str } from './util.js';

const BASE = '/rest/auth/angelbroking';
const SECURE = '/rest/secure/angelbroking';

export const sessionRoutes: Route[] = [
  {
    method: 'POST',
    path: `${BASE}/user/v1/loginByPassword`,
    bucket: 'loginByPassword',
    auth: false,
    handle({ core, body }) {
      const r = core.auth.login(str(body.clientcode), str(body.password), str(body.totp));
      if (!r.ok) return fail(r.code, r.message);
      const s = r.session;
      return ok({ jwtToken: s.jwtToken, refreshToken: s.refreshToken, feedToken: s.feedToken, ...(body.state === undefined ? {} : { state: body.state }) });
    },
  },
  {
    method: 'POST',
    path: `${BASE}/jwt/v1/generateTokens`,
    bucket: 'generateTokens',
    auth: true,
    handle({ core, body, session }) {
      const r = core.auth.refresh(session.jwtToken, str(body.refreshToken));
      if (!r.ok) return fail(r.code, r.message);
      return ok({ jwtToken: r.session.jwtToken, refreshToken: r.session.refreshToken, feedToken: r.session.feedToken });
    },
  },
  {
    method: 'GET',
    path: `${SECURE}/user/v1/getProfile`,
    bucket: 'getProfile',
    auth: true,
    handle({ core, session }) {
      const a = core.auth.account(session.clientcode)!;
      const last = core.auth.lastLogin.get(a.clientcode);
      return ok({
        clientcode: a.clientcode,
        name: a.name,
        email: a.email,
        mobileno: a.mobileno,
        exchanges: ['NSE', 'BSE', 'NFO', 'BFO'],
        products: ['MARGIN', 'MIS', 'NRML', 'CNC', 'CO', 'BO'],
        lastlogintime: last === undefined ? '' : fmtOrderTime(last),
        brokerid: 'B2C',
      });
    },
  },
  {
    method: 'POST',
    path: `${SECURE}/user/v1/logout`,
    bucket: 'logout',
    auth: true,
    handle({ core, session }) {
      core.auth.logout(session.clientcode);
      return ok('');
    },
  },
  {
    method: 'GET',
    path: `${SECURE}/user/v1/getRMS`,
    bucket: 'getRMS',
    auth: true,
    handle({ core, session }) {
      const f = core.orders.funds(session.clientcode);
      const s = (x: number): string => x.toFixed(2);
      return ok({
        net: s(f.available),
        availablecash: s(f.available),
        availableintradaypayin: '0.00',
        availablelimitmargin: '0.00',
        collateral: '0.00',
        m2munrealized: s(f.unrealised),
        m2mrealized: s(f.realised),
        utiliseddebits: s(Math.max(0, core.orders.initialCash - f.available)),
        utilisedspan: '0.00',
        utilisedoptionpremium: s(f.premium),
        utilisedholdingsales: '0.00',
        utilisedexposure: '0.00',
        utilisedturnover: '0.00',
        utilisedpayout: '0.00',
      });
    },
  },
];

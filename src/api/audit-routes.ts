/**
 * `/auditLogs/directoryAudits` and `/auditLogs/signIns`: the directory audit log and the sign-in
 * log, newest first, with `$top` and paging (and `$filter` on sign-ins).
 */
import { Router } from 'express';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import { nextLinkFor, type ApiContext } from './context.ts';
import { notFound } from './errors.ts';
import { parseTop } from './paging.ts';
import { onlyQuery, singleQuery } from './request.ts';
import { parseSignInFilter } from './sign-in-filter.ts';

export function auditRoutes(context: ApiContext): Router {
  const router = Router();

  router.get('/auditLogs/directoryAudits', requireRole(ROLES.readAudit), async (req, res) => {
    onlyQuery(req, ['$top', '$skiptoken']);
    const tenantId = callerOf(res).tenant.id;
    const topText = singleQuery(req, '$top');
    const top = parseTop(topText);
    const binding = { tenantId, collection: 'directoryAudits', query: JSON.stringify([topText ?? null]) };
    const skipToken = singleQuery(req, '$skiptoken');
    const after = skipToken === undefined ? undefined : context.skipTokens.open(binding, skipToken);
    const page = await context.audit.list(tenantId, { top, ...(after === undefined ? {} : { after }) });
    res.json({
      '@odata.context': `${context.baseUrl}/$metadata#auditLogs/directoryAudits`,
      ...(page.next === undefined
        ? {}
        : { '@odata.nextLink': nextLinkFor(context.baseUrl, '/auditLogs/directoryAudits', { $top: topText }, context.skipTokens.seal(binding, page.next)) }),
      value: page.entries,
    });
  });

  router.get('/auditLogs/signIns', requireRole(ROLES.readAudit), async (req, res) => {
    onlyQuery(req, ['$top', '$filter', '$skiptoken']);
    const tenantId = callerOf(res).tenant.id;
    const topText = singleQuery(req, '$top');
    const top = parseTop(topText);
    const filterText = singleQuery(req, '$filter');
    const filter = parseSignInFilter(filterText);
    const binding = { tenantId, collection: 'signIns', query: JSON.stringify([topText ?? null, filterText ?? null]) };
    const skipToken = singleQuery(req, '$skiptoken');
    const after = skipToken === undefined ? undefined : context.skipTokens.open(binding, skipToken);
    const page = await context.signIns.list(tenantId, { top, after, filter });
    res.json({
      '@odata.context': `${context.baseUrl}/$metadata#auditLogs/signIns`,
      ...(page.next === undefined
        ? {}
        : {
            '@odata.nextLink': nextLinkFor(context.baseUrl, '/auditLogs/signIns', { $top: topText, $filter: filterText }, context.skipTokens.seal(binding, page.next)),
          }),
      value: page.entries,
    });
  });

  router.get('/auditLogs/signIns/:id', requireRole(ROLES.readAudit), async (req, res) => {
    onlyQuery(req, []);
    const id = String(req.params['id']);
    const entry = await context.signIns.get(callerOf(res).tenant.id, id);
    if (!entry) throw notFound(`Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    res.json({ '@odata.context': `${context.baseUrl}/$metadata#auditLogs/signIns/$entity`, ...entry });
  });

  return router;
}

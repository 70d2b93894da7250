/** `/auditLogs/directoryAudits`: the directory audit log, newest first, with `$top` and paging. */
import { Router } from 'express';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import { nextLinkFor, type ApiContext } from './context.ts';
import { parseTop } from './paging.ts';
import { onlyQuery, singleQuery } from './request.ts';

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

  return router;
}

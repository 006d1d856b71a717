import { z } from 'zod';
import type { RunRecord } from '../../../actors/svctasks/ledger.ts';
import type { TaskView } from '../../../actors/svctasks/protocol.ts';
import { TaskId } from '../../../actors/svctasks/task.ts';
import { domainName } from '../../../topology/primitives.ts';
import { askActor } from '../dispatch.ts';
import type { Route } from '../route.ts';
import { errors, parse } from '../route.ts';

/**
 * Service tasks (06-services.md): a domain's tasks, their runs, create/replace/delete (API tasks; file tasks are
 * read-only), and a run now. Each request goes to the domain's scheduler, `/svctasks/<domain>`, on the active instance
 * of the group serving the domain (a passive node or another group's node forwards it).
 */

const DomainParams = z.strictObject({ domain: domainName });
const TaskParams = z.strictObject({ domain: domainName, id: TaskId });
const TaskBody = z.record(z.string(), z.unknown());

/** Reads answer quickly; a run-now answers once its runs have ended (the runner's deadline bounds them). */
const READ_MS = 10_000;
const RUN_NOW_MS = 300_000;

const path = (domain: string) => `/svctasks/${domain}`;

export const taskRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/v1/tasks/:domain',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/tasks/{domain}',
        summary:
          'The domain’s service tasks: definition (without code), next firing, runs under way, last run',
        params: DomainParams,
        responses: { '200': { description: 'The tasks' }, ...errors(400, 401, 404, 503, 504) },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { domain } = parse(DomainParams, req.params, 'path');
      return {
        tasks: (await askActor(ctx, req.principal, path(domain), 'list', null, READ_MS)) as TaskView[],
      };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/tasks/:domain/:id',
    scope: 'read',
    docs: [
      {
        method: 'get',
        path: '/api/v1/tasks/{domain}/{id}',
        summary: 'One task with its script code and its last runs (outcome, duration, output tail)',
        params: TaskParams,
        responses: { '200': { description: 'The task' }, ...errors(400, 401, 404, 503, 504) },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { domain, id } = parse(TaskParams, req.params, 'path');
      return await askActor(ctx, req.principal, path(domain), 'get', { id }, READ_MS);
    },
  },
  {
    method: 'POST',
    url: '/api/v1/tasks/:domain',
    scope: 'admin',
    docs: [
      {
        method: 'post',
        path: '/api/v1/tasks/{domain}',
        summary:
          'Creates or replaces a task (the svctask fields; `domain` defaults to the path’s). 400 MW_ERR_TASK_INVALID ' +
          'names each bad field; 409 MW_ERR_TASK_READONLY for a task of the tasks file',
        params: DomainParams,
        body: TaskBody,
        responses: {
          '200': { description: 'The task as scheduled' },
          ...errors(400, 401, 403, 404, 409, 503, 504),
        },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { domain } = parse(DomainParams, req.params, 'path');
      const task = { domain, ...parse(TaskBody, req.body ?? null, 'body') };
      return await askActor(ctx, req.principal, path(domain), 'put', { task }, READ_MS);
    },
  },
  {
    method: 'DELETE',
    url: '/api/v1/tasks/:domain/:id',
    scope: 'admin',
    docs: [
      {
        method: 'delete',
        path: '/api/v1/tasks/{domain}/{id}',
        summary: 'Deletes an API task and its runs',
        params: TaskParams,
        responses: { '200': { description: 'Deleted' }, ...errors(400, 401, 403, 404, 409, 503, 504) },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { domain, id } = parse(TaskParams, req.params, 'path');
      return await askActor(ctx, req.principal, path(domain), 'delete', { id }, READ_MS);
    },
  },
  {
    method: 'POST',
    url: '/api/v1/tasks/:domain/:id/run-now',
    scope: 'admin',
    docs: [
      {
        method: 'post',
        path: '/api/v1/tasks/{domain}/{id}/run-now',
        summary:
          'Fires the task now on the sites of its sitemode and answers with the runs once they have ended; ' +
          '409 MW_ERR_TASK_OVERLAP while a run is under way and the task does not allow overlap',
        params: TaskParams,
        responses: { '200': { description: 'The runs' }, ...errors(400, 401, 403, 404, 409, 503, 504) },
      },
    ],
    handler: async (req, _reply, ctx) => {
      const { domain, id } = parse(TaskParams, req.params, 'path');
      return {
        runs: (await askActor(
          ctx,
          req.principal,
          path(domain),
          'run-now',
          { id },
          RUN_NOW_MS,
        )) as RunRecord[],
      };
    },
  },
];

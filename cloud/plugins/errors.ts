import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, GsError, isGsError, type ErrorCode } from '../../contracts/errors.js';
import { ErrorBody } from '../http/schemas.js';
import { validationDetails } from '../http/validation.js';
import { definePlugin } from './define.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The code a schema violation of this route's input gets (default GS_ERR_VALIDATION). */
    validationCode?: ErrorCode;
  }
}

/** Fastify's own errors for bad requests, and what the API calls them. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'GS_ERR_JSON_MALFORMED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GS_ERR_JSON_MALFORMED',
  FST_ERR_CTP_BODY_TOO_LARGE: 'GS_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GS_ERR_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'GS_ERR_VALIDATION',
};

/** Turns any error into `{code, message, details?}`: a 4xx for bad input, a bare 500 for our faults. */
export function toGsError(err: FastifyError, validationCode: ErrorCode = 'GS_ERR_VALIDATION'): GsError {
  if (isGsError(err)) return err;
  if (err.validation) {
    const details = validationDetails(err.validation);
    const part = err.validationContext ?? 'request';
    return new GsError(validationCode, `${part} is not valid: ${details.length} problem(s)`, details);
  }
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) return new GsError(mapped, mapped === 'GS_ERR_JSON_MALFORMED' ? `body is not valid JSON: ${err.message}` : ERRORS[mapped].message);
  // A SyntaxError from a JSON parser that did not wrap it (Fastify marks it 400).
  if (err instanceof SyntaxError && err.statusCode === 400) return new GsError('GS_ERR_JSON_MALFORMED', `body is not valid JSON: ${err.message}`);
  // Any other client error Fastify raised: still the client's fault, still a 4xx with a code.
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new GsError(err.statusCode === 404 ? 'GS_ERR_NOT_FOUND' : 'GS_ERR_VALIDATION', err.message);
  }
  return new GsError('GS_ERR_INTERNAL');
}

export const errorsPlugin = definePlugin('gs-errors', [], async (app) => {
  app.addSchema(ErrorBody);

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const gs = toGsError(err, req.routeOptions.config?.validationCode);
    // Our faults are logged with the stack and answered without it; client faults are routine.
    if (gs.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: gs.code }, gs.message);
    return reply.status(gs.status).send(gs.toJSON());
  });

  app.setNotFoundHandler((req, reply) => {
    const gs = new GsError('GS_ERR_ROUTE_NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`);
    return reply.status(gs.status).send(gs.toJSON());
  });
});

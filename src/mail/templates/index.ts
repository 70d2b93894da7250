export { composeInvitationMail, pickTemplate, escapeHtml, MESSAGE_MAX_LENGTH, type ComposedMail, type InvitationMailInput, type InvitationTemplate } from './invitation.ts';
export { BUILTIN_TEMPLATES } from './builtin.ts';
export { PLACEHOLDERS, parseTemplate, renderTemplate, templateProblem, TemplateSyntaxError, type Placeholder, type TemplateValues } from './placeholders.ts';

import { ContentType } from '@app/common';

export const TEMPLATE_NAME_MAX_LENGTH = 100;
export const TEMPLATE_PROMPT_MAX_LENGTH = 4000;
export const VARIABLE_DESCRIPTION_MAX_LENGTH = 300;
/** Also the cap of a variable's default. */
export const VARIABLE_VALUE_MAX_LENGTH = 1000;
export const MAX_VARIABLES = 20;
export const MAX_TEMPLATES_PER_USER = 100;
export const VARIABLE_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,39}$/;

export interface TemplateVariable {
  name: string;
  description?: string;
  /** A required variable must be given a non-empty value; it has no default. */
  required: boolean;
  /** Used when an optional variable is missing or empty. */
  default?: string;
}

/** What a user writes: every field of a template but its id and owner. */
export interface TemplateFields {
  name: string;
  contentType: ContentType;
  prompt: string;
  variables: TemplateVariable[];
}

/** A variable as a user declares it: `required` left out means required unless a default is given. */
export interface TemplateVariableInput extends Omit<TemplateVariable, 'required'> {
  required?: boolean;
}

/** A template as a user creates it; no `variables` means a prompt without placeholders. */
export interface TemplateInput extends Omit<TemplateFields, 'variables'> {
  variables?: TemplateVariableInput[];
}

/** A template as the API returns it: a built-in one (string id such as `seo-blog-outline`) or the caller's own (ObjectId). */
export interface TemplateView extends TemplateFields {
  _id: string;
  builtIn: boolean;
}

/** A template's prompt with the caller's values substituted, ready to become a job's prompt. */
export interface RenderedTemplate {
  templateId: string;
  contentType: ContentType;
  prompt: string;
}

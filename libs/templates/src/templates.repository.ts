import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isOwnedBy, ownerObjectId, parseObjectId } from '@app/common';
import { Template } from './template.schema';
import { TemplateFields, TemplateVariable, TemplateView } from './template.types';

/**
 * Users' own templates. Ids are strings in and out: one that is not an ObjectId matches nothing. Single
 * templates are read by _id alone (the one filter FerretDB answers from an index) and the owner is checked
 * here, so another user's template looks missing.
 */
@Injectable()
export class TemplatesRepository {
  constructor(@InjectModel(Template.name) private readonly templates: Model<Template>) {}

  async create(userId: string, fields: TemplateFields): Promise<TemplateView> {
    const created = await this.templates.create({ ...fields, userId: ownerObjectId(userId) });
    return toView(created.toObject());
  }

  async findOwned(userId: string, id: string): Promise<TemplateView | undefined> {
    const templateId = parseObjectId(id);
    if (!templateId) return undefined;
    const template = await this.templates.findOne({ _id: templateId }).lean();
    return template && isOwnedBy(template.userId, userId) ? toView(template) : undefined;
  }

  /** Oldest first, so a user's list keeps its order as templates are added. */
  async list(userId: string): Promise<TemplateView[]> {
    const owner = parseObjectId(userId);
    if (!owner) return [];
    const templates = await this.templates.find({ userId: owner }).sort({ createdAt: 1, _id: 1 }).lean();
    return templates.map(toView);
  }

  async count(userId: string): Promise<number> {
    const owner = parseObjectId(userId);
    return owner ? this.templates.countDocuments({ userId: owner }) : 0;
  }

  /** Replaces the editable fields of a template the caller has already found as theirs (a template never changes owner). */
  async replace(id: string, fields: TemplateFields): Promise<TemplateView | undefined> {
    const templateId = parseObjectId(id);
    if (!templateId) return undefined;
    const template = await this.templates.findOneAndUpdate({ _id: templateId }, { $set: fields }, { returnDocument: 'after', runValidators: true }).lean();
    return template ? toView(template) : undefined;
  }

  /** Every template of the user (an account's deletion); returns how many went. */
  async deleteAllOf(userId: string): Promise<number> {
    const owner = parseObjectId(userId);
    return owner ? (await this.templates.deleteMany({ userId: owner })).deletedCount : 0;
  }

  async delete(id: string): Promise<boolean> {
    const templateId = parseObjectId(id);
    if (!templateId) return false;
    const result = await this.templates.deleteOne({ _id: templateId });
    return result.deletedCount === 1;
  }
}



function toView(template: Template & { _id: unknown }): TemplateView {
  return {
    _id: String(template._id),
    name: template.name,
    contentType: template.contentType,
    prompt: template.prompt,
    variables: template.variables.map(toVariable),
    builtIn: false,
  };
}

function toVariable(variable: TemplateVariable): TemplateVariable {
  const view: TemplateVariable = { name: variable.name, required: variable.required };
  if (variable.description !== undefined) view.description = variable.description;
  if (variable.default !== undefined) view.default = variable.default;
  return view;
}

/** Dropdowns loaded from the OTP workers: their profiles, and the locales a profile has templates for. */
import { NodeOperationError, type ILoadOptionsFunctions, type INodePropertyOptions } from 'n8n-workflow';
import type { OtpCatalog } from '../../../contract';
import { withOtpClient } from '../transport';

async function catalog(ctx: ILoadOptionsFunctions): Promise<OtpCatalog> {
  return withOtpClient(ctx, (otp) => otp.catalog()).then(
    (c) => c,
    (err: Error) => {
      throw new NodeOperationError(ctx.getNode(), `Could not list the workers' profiles: ${err.message}`, { description: 'Type the profile name as an expression, or check the credentials and that an OTP worker runs.' });
    },
  );
}

export async function getProfiles(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const { profiles } = await catalog(this);
  return profiles.map((p) => ({ name: p.name, value: p.name, description: p.description }));
}

export async function getLocales(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const name = String(this.getCurrentNodeParameter('profile') ?? this.getCurrentNodeParameter('options.profile') ?? 'login');
  const profile = (await catalog(this)).profiles.find((p) => p.name === name);
  if (!profile) throw new NodeOperationError(this.getNode(), `The workers have no profile "${name}"`);
  const languages = new Intl.DisplayNames(['en'], { type: 'language' });
  const label = (tag: string) => `${languages.of(tag.replace('_', '-')) ?? tag} (${tag})`;
  return [{ name: `Profile Default: ${label(profile.defaultLocale)}`, value: '' }, ...profile.locales.map((tag) => ({ name: label(tag), value: tag }))];
}

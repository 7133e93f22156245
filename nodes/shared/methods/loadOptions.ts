/** Dropdowns loaded from the OTP workers: their profiles, and the locales a profile has templates for. */
import { NodeOperationError, type ILoadOptionsFunctions, type INodePropertyOptions } from 'n8n-workflow';
import type { OtpCatalog } from '../../../contract';
import { withOtpClient } from '../transport';

const DROPDOWN_TIMEOUT_MS = 5000;

async function catalog(ctx: ILoadOptionsFunctions): Promise<OtpCatalog> {
  // A dropdown should not keep the builder waiting as long as a send may.
  return withOtpClient(ctx, (otp) => otp.withCallTimeout(DROPDOWN_TIMEOUT_MS).catalog()).then(
    (c) => c,
    (err: Error) => {
      throw new NodeOperationError(ctx.getNode(), `Could not list the workers' profiles: ${err.message}`, {
        description: 'Type the profile name as an expression, or check the credentials and that an OTP worker runs.',
      });
    },
  );
}

export async function getProfiles(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const { profiles } = await catalog(this);
  // Say what a profile adds to its base: the channels past SMS it allows.
  return profiles.map((p) => {
    const more = p.channels.filter((c) => c !== 'sms');
    return { name: p.name, value: p.name, description: more.length ? `${p.description}; also ${more.join(', ')}` : p.description };
  });
}

export async function getLocales(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const name = String(this.getCurrentNodeParameter('profile') ?? this.getCurrentNodeParameter('options.profile') ?? 'login');
  const profile = (await catalog(this)).profiles.find((p) => p.name === name);
  if (!profile) throw new NodeOperationError(this.getNode(), `The workers have no profile "${name}"`);
  const languages = new Intl.DisplayNames(['en'], { type: 'language' });
  const label = (tag: string) => `${languages.of(tag.replace('_', '-')) ?? tag} (${tag})`;
  return [{ name: `Profile Default: ${label(profile.defaultLocale)}`, value: '' }, ...profile.locales.map((tag) => ({ name: label(tag), value: tag }))];
}

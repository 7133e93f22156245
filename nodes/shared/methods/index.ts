/** What both nodes' `methods` hold: the credential test (`testedBy: 'temporalOtpApiTest'`) and the dropdowns loaded from the workers. */
import { testTemporalOtpCredentials } from './credentialTest';
import { getLocales, getProfiles } from './loadOptions';

export const credentialTest = { temporalOtpApiTest: testTemporalOtpCredentials };
export const loadOptions = { getProfiles, getLocales };

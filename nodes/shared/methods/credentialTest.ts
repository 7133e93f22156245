/** The "Temporal OTP API" credential test, as n8n's Postgres node keeps its own in methods/. */
import type { Connection } from '@temporalio/client';
import type { ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { WORKFLOW_TASK_QUEUE } from '../../../client';
import { clientSettings, connectTemporal, unreachable, type TemporalOtpCredentials } from '../transport';

/** The credential test: a real connection, the namespace must exist, and a worker must poll the task queue. */
export async function testTemporalOtpCredentials(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
  const creds = credential.data as unknown as TemporalOtpCredentials;
  const { settings, problem } = clientSettings(creds);
  if (!settings) return { status: 'Error', message: problem };
  let connection: Connection | undefined;
  try {
    connection = await connectTemporal(creds, settings.address);
    await connection.workflowService.describeNamespace({ namespace: settings.namespace });
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: settings.namespace,
      taskQueue: { name: settings.taskQueue },
      taskQueueType: WORKFLOW_TASK_QUEUE,
    });
    // A misspelled task queue, or workers not started, would make every send wait for nothing.
    if (!pollers?.length) {
      return {
        status: 'Error',
        message: `Connected to ${settings.address}, but no OTP worker is polling task queue "${settings.taskQueue}": start the workers, or check the task queue name`,
      };
    }
    return {
      status: 'OK',
      message: `Connected to ${settings.address}, namespace "${settings.namespace}", an OTP worker polls task queue "${settings.taskQueue}"`,
    };
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (connection && /not found/i.test(message))
      return { status: 'Error', message: `Namespace "${settings.namespace}" does not exist on ${settings.address}` };
    return { status: 'Error', message: unreachable(settings.address, err) };
  } finally {
    await connection?.close();
  }
}

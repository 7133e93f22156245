// Entry point for the worker's workflow bundle: every workflow type lives here.
export { otpSession } from './otp-session';
export { deliveryReceiptMailbox } from './receipt-mailbox';
export { otpVelocity } from './velocity';

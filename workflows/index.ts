// Entry point for the worker's workflow bundle: every workflow type lives here.
export { otpSession } from './otp-session';
export { deliveryReceiptMailbox } from './receipt-mailbox';
export { otpVelocityShard } from './velocity-shard';
export { otpCatalog } from './catalog';
// v0.1 workflows: kept so that their running instances replay and finish.
export { otpVelocity } from './v1/velocity';
export { otpMobileOriginated } from './mobile-originated';
export { otpOptOut } from './opt-out';
export { otpSenderApproval } from './sender-approval';

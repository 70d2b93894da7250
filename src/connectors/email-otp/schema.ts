import { z } from 'zod';
import { connectorBaseFields } from '../config-base.ts';

export const EMAIL_OTP_DISPLAY_NAME = 'Email one-time passcode';

/** A tenant's `identityProviders[]` entry for email one-time passcodes. */
export const emailOtpConfigSchema = z.strictObject({
  ...connectorBaseFields,
  kind: z.literal('email-otp').meta({ description: 'Email one-time passcodes: Portico mails an 8-digit code that signs the guest in.' }),
  codeLifetimeMinutes: z.int().min(1).max(30).default(10).meta({ description: 'How long a mailed code can be used (at most 30 minutes).' }),
  resendAfterSeconds: z.int().min(0).max(3600).default(60).meta({
    description: 'How long a guest waits before asking for another code in the same sign-in; the new code replaces the old one.',
  }),
  maxCodesPerAddressPerHour: z.int().min(1).default(5).meta({
    description: 'Codes mailed to one address per clock hour, across sign-ins: keeps Portico from being used to flood a mailbox.',
  }),
  maxCodesPerIpPerHour: z.int().min(1).default(20).meta({ description: 'Codes requested from one client IP address per clock hour.' }),
  maxVerifyAttemptsPerIpPerHour: z.int().min(1).default(50).meta({
    description: 'Code entries (right or wrong) from one client IP address per clock hour; each code also dies after 5 wrong entries.',
  }),
});

export type EmailOtpConfig = z.output<typeof emailOtpConfigSchema>;

/** What the mailer hands a transport: the port's message plus the sending time. */
export interface OutgoingMessage {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  readonly date: Date;
}

export interface MailTransport {
  /** Resolves with the Message-ID once the message is handed over; rejects with MailDeliveryError. */
  deliver(message: OutgoingMessage): Promise<{ readonly messageId: string }>;
  close(): Promise<void>;
}

/**
 * nodemailer's fields for a message. The recipient goes in as an address object so nodemailer
 * never parses it as an address list (a string with a comma would become two recipients).
 */
export const nodemailerFields = (message: OutgoingMessage) => ({
  from: message.from,
  to: { name: '', address: message.to },
  subject: message.subject,
  text: message.text,
  ...(message.html === undefined ? {} : { html: message.html }),
  date: message.date,
});

/** The part of an address after the last '@', lowercased: what logs may show of a recipient. */
export const recipientDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

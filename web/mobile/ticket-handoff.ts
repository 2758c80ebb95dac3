/**
 * The registration answers with the ticket's qrImageUrl; the ticket page, opened right after,
 * shows that image. A ticket re-opened later from its link builds the same address itself
 * (event-api.ts: qrImageUrl), so nothing here needs to outlive the page.
 */
const qrImages = new Map<string, string>();

export const rememberQrImage = (token: string, url: string): void => void qrImages.set(token, url);
export const qrImageOf = (token: string): string | undefined => qrImages.get(token);

import busboy from 'busboy';
import type { MailgunForm } from './mailgun.ts';

/**
 * A multipart/form-data or urlencoded body (already bounded by the route's body limit) → its
 * fields and the metadata of its files. File contents are counted and dropped: the pipeline keeps
 * attachment metadata, not the bytes.
 */
export function parseForm(body: Buffer, contentType: string): Promise<MailgunForm> {
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    const attachments: MailgunForm['attachments'] = [];
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        limits: { fieldSize: body.length, fields: 1000, files: 100, parts: 1100 },
        defParamCharset: 'utf8',
      });
    } catch (err) {
      reject(err);
      return;
    }
    bb.on('field', (name, value) => {
      const key = name.toLowerCase();
      if (!fields.has(key)) fields.set(key, value);
    });
    bb.on('file', (_name, stream, info) => {
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      stream.on('end', () => {
        attachments.push({
          contentType: info.mimeType,
          size,
          ...(info.filename ? { filename: info.filename } : {}),
        });
      });
    });
    bb.on('error', reject);
    bb.on('close', () => resolve({ fields, attachments }));
    bb.end(body);
  });
}

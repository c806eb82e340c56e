// PKCS#12 (`certificate.p12`), in a module of its own: node-forge is loaded only when a certificate is exported
// in this format, not by every command that imports the export formats.
import { createCipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { OperationError } from '../domain/errors.js';
import { pemCertificateBlocks } from '../pki/pem.js';
import type { PemFiles } from '../pki/pem-files.js';

export interface Pkcs12Options {
  /** Any string; the caller refuses an empty one (see {@link readPkcs12Password}). */
  password: string;
  /** Shown as the alias by keytool and Windows; the certificate name. Omitted from the file when empty. */
  friendlyName: string;
}

/**
 * Iterations of PBKDF2 (key encryption) and of the PKCS#12 KDF (MAC key): equal, because a password guesser
 * attacks the cheaper of the two. Java's default since JDK 12; OpenSSL 3's default is 2048.
 */
const PKCS12_ITERATIONS = 10_000;

/** Object identifiers used below. */
const OID = {
  data: '1.2.840.113549.1.7.1', // PKCS #7 data
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/**
 * `certificate.p12`: a DER PKCS#12 PFX (RFC 7292) of the key, the leaf and the intermediates, for every key type
 * acmectl issues (EC P-256/P-384, RSA). node-forge's `toPkcs12Asn1` only takes RSA keys, so the PFX is assembled
 * here from node-forge's ASN.1 encoder and PKCS#12 key derivation, and node:crypto's PBKDF2, AES and HMAC:
 *
 *     PFX { version 3,
 *           authSafe ContentInfo(data) = AuthenticatedSafe [
 *             ContentInfo(data) = SafeContents [                       -- certificates, not encrypted (public)
 *               CertBag(x509Certificate leaf)  {friendlyName, localKeyId}
 *               CertBag(x509Certificate intermediate) ...              -- in chain order
 *             ]
 *             ContentInfo(data) = SafeContents [
 *               PKCS8ShroudedKeyBag(EncryptedPrivateKeyInfo)  {friendlyName, localKeyId}
 *             ]
 *           ],
 *           macData { HMAC-SHA-256 over the AuthenticatedSafe's DER, key from the PKCS#12 KDF (RFC 7292 B.2,
 *                     SHA-256, ID 3), salt, iterations } }
 *
 * The key is a PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018): PBKDF2 with HMAC-SHA-256, AES-256-CBC, the
 * password as UTF-8. This is what `openssl pkcs12 -export` writes by default in OpenSSL 3; nothing here needs
 * OpenSSL's legacy provider (no RC2, no 3DES, no PKCS#12 PBE). localKeyId is the SHA-1 of the leaf's DER, as
 * OpenSSL makes it; it pairs the key with its certificate (Java and Windows use it).
 *
 * Deterministic: the salts and the IV are derived, with HMAC-SHA-256 keyed by the private key, from everything
 * that goes into the file (key, certificates, password, friendly name), instead of drawn at random. They stay
 * unpredictable to anyone without the key, and identical inputs give an identical file, so re-exporting a version
 * that is already in place is recognised as a no-op by the exporter's byte comparison.
 *
 * OperationError when the PEM texts do not parse or the key does not belong to the leaf certificate.
 */
export function pkcs12(files: PemFiles, options: Pkcs12Options): Uint8Array {
  const { password, friendlyName } = options;
  const leaves = parseCertificates(files.certPem, 'certificate');
  if (leaves.length !== 1) {
    throw new OperationError(`the certificate to export as PKCS#12 holds ${leaves.length} certificates instead of one`);
  }
  const leaf = leaves[0]!;
  const intermediates = parseCertificates(files.chainPem, 'chain');
  const key = parsePrivateKey(files.keyPem);
  if (!leaf.checkPrivateKey(key)) {
    throw new OperationError('the private key does not belong to the certificate: not writing a PKCS#12 file');
  }
  const privateKeyInfo = key.export({ type: 'pkcs8', format: 'der' });
  const passwordUtf8 = Buffer.from(password, 'utf8');

  // Per-file parameters (see "Deterministic" above): HMAC-SHA-256(key, all inputs), then one HMAC per purpose.
  const seedHmac = createHmac('sha256', privateKeyInfo);
  for (const part of [Buffer.from('acmectl PKCS#12 v1'), passwordUtf8, Buffer.from(friendlyName, 'utf8'), leaf.raw]) {
    seedHmac.update(lengthPrefixed(part));
  }
  for (const certificate of intermediates) seedHmac.update(lengthPrefixed(certificate.raw));
  const seed = seedHmac.digest();
  const parameter = (purpose: string) => createHmac('sha256', seed).update(purpose).digest().subarray(0, 16);
  const keySalt = parameter('key encryption salt');
  const keyIv = parameter('key encryption iv');
  const macSalt = parameter('mac salt');

  // EncryptedPrivateKeyInfo (RFC 5958) with PBES2 (RFC 8018 A.4): PBKDF2-HMAC-SHA-256, AES-256-CBC (PKCS#7 padding).
  const encryptionKey = pbkdf2Sync(passwordUtf8, keySalt, PKCS12_ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', encryptionKey, keyIv);
  const encryptedKey = Buffer.concat([cipher.update(privateKeyInfo), cipher.final()]);
  const pbkdf2Parameters = sequence([
    octets(keySalt),
    integer(PKCS12_ITERATIONS),
    sequence([oid(OID.hmacWithSha256), nullValue()]), // prf (the default would be HMAC-SHA-1)
  ]);
  const encryptedPrivateKeyInfo = sequence([
    sequence([
      oid(OID.pbes2),
      sequence([
        sequence([oid(OID.pbkdf2), pbkdf2Parameters]), // keyDerivationFunc
        sequence([oid(OID.aes256Cbc), octets(keyIv)]), // encryptionScheme
      ]),
    ]),
    octets(encryptedKey),
  ]);

  // Bag attributes (PKCS #9) shared by the key and the leaf: a SET, so DER-sorted.
  const attributes: forge.asn1.Asn1[] = [
    sequence([oid(OID.localKeyId), setOf([octets(createHash('sha1').update(leaf.raw).digest())])]),
  ];
  if (friendlyName !== '') attributes.push(sequence([oid(OID.friendlyName), setOf([bmpString(friendlyName)])]));
  const bagAttributes = () => setOf(attributes);

  // SafeBag ::= SEQUENCE { bagId, bagValue [0] EXPLICIT, bagAttributes SET OF Attribute OPTIONAL }
  const certBag = (certificate: X509Certificate, withAttributes: boolean) =>
    sequence([
      oid(OID.certBag),
      explicit0(sequence([oid(OID.x509Certificate), explicit0(octets(certificate.raw))])), // CertBag
      ...(withAttributes ? [bagAttributes()] : []),
    ]);
  const certificateContents = sequence([certBag(leaf, true), ...intermediates.map((cert) => certBag(cert, false))]);
  const keyContents = sequence([
    sequence([oid(OID.pkcs8ShroudedKeyBag), explicit0(encryptedPrivateKeyInfo), bagAttributes()]),
  ]);
  // AuthenticatedSafe ::= SEQUENCE OF ContentInfo; each ContentInfo(data) wraps the DER of one SafeContents.
  const authenticatedSafe = der(sequence([dataContentInfo(der(certificateContents)), dataContentInfo(der(keyContents))]));

  // MacData: HMAC-SHA-256 keyed by the PKCS#12 KDF (RFC 7292 B.2, ID 3 = MAC key, password as BMPString + 00 00).
  const macKey = forge.pkcs12.generateKey(
    password,
    forge.util.createBuffer(macSalt.toString('binary')),
    3,
    PKCS12_ITERATIONS,
    32,
    forge.md.sha256.create(),
  );
  const mac = createHmac('sha256', Buffer.from(macKey.getBytes(), 'binary')).update(authenticatedSafe).digest();
  const macData = sequence([
    sequence([sequence([oid(OID.sha256), nullValue()]), octets(mac)]), // DigestInfo
    octets(macSalt),
    integer(PKCS12_ITERATIONS),
  ]);

  return der(sequence([integer(3), dataContentInfo(authenticatedSafe), macData]));
}

/** The X.509 certificates of a PEM text, in order. OperationError for anything unparseable. */
function parseCertificates(pem: string, what: string): X509Certificate[] {
  return pemCertificateBlocks(pem).map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new OperationError(`certificate ${index + 1} of the ${what} to export is not a valid X.509 certificate`, {
        cause: error,
      });
    }
  });
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    // Not the underlying message: it may quote parts of the key.
    throw new OperationError('the private key to export is not a valid PEM private key', { cause: error });
  }
}

function lengthPrefixed(bytes: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

// ASN.1 DER building blocks over node-forge (whose values are "binary" strings, one char per byte).
const { asn1 } = forge;

function sequence(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

/** SET OF, with its elements in DER order (sorted by their encodings, X.690 11.6). */
function setOf(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  const sorted = items
    .map((item) => ({ item, encoding: der(item) }))
    .sort((a, b) => Buffer.compare(a.encoding, b.encoding))
    .map(({ item }) => item);
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, sorted);
}

function oid(dotted: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
}

function octets(bytes: Uint8Array): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, Buffer.from(bytes).toString('binary'));
}

function integer(value: number): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes());
}

function nullValue(): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '');
}

/** BMPString: node-forge encodes the string's UTF-16 code units big-endian. */
function bmpString(text: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, text);
}

/** `[0] EXPLICIT` */
function explicit0(inner: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0 as forge.asn1.Type, true, [inner]);
}

/** ContentInfo { contentType id-data, content [0] EXPLICIT OCTET STRING } */
function dataContentInfo(content: Uint8Array): forge.asn1.Asn1 {
  return sequence([oid(OID.data), explicit0(octets(content))]);
}

function der(node: forge.asn1.Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}


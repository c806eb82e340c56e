/** The PEM texts of one certificate version. */
export interface PemFiles {
  certPem: string;
  chainPem: string;
  fullchainPem: string;
  keyPem: string;
}

// Project Wycheproof's JSON Web Signature test vectors (testvectors/json_web_signature_test.json,
// C2SP/wycheproof at commit 061657f12eed26eeab9b6548ce03f45219d0e7fe, Apache License 2.0): the
// HS256 and ES256 groups whole, and the RS256 group's structural cases with the first PKCS #1
// padding cases. Transcribed as data; the test that reads them is wycheproof-jws.test.ts.
import type { JWK } from 'jose';

export interface WycheproofJwsTest {
  readonly tcId: number;
  readonly comment: string;
  readonly jws: string;
  readonly result: 'valid' | 'invalid';
  readonly flags: readonly string[];
}

export interface WycheproofJwsGroup {
  readonly comment: string;
  /** The verification key: the public JWK, or the shared key for HS256. */
  readonly key: JWK;
  readonly tests: readonly WycheproofJwsTest[];
}

const HS_HEADER = 'eyJhbGciOiJIUzI1NiIsImtpZCI6ImtpZC1hZXMtc2lnbiJ9';
const HS_SIG = 'TD37p4c_0jmreSrBSDmE0F3mYSPtkZ3WrSyI5wb_KTg';
const ES_HEADER = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImtpZC1lYy1zaWduIn0';
const ES_SIG =
  '5cA0OHyMP7ezamUd5c9kV-FrGxdx4hbGXOdplQkutrqWrte5P-pAvsE3Ve6xSyU3YDQwUHjVVOtvcrEbbnZ8yA';
const RS_HEADER = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImtpZC1yc2Etc2lnbiJ9';
const RS_SIG =
  'HUwxI1-cZrZgcuOgBQ7G7NE-GrqK79l6GV1KT4DKXnSMFwC8pfZCzE7pmLE7mYpLCIvzC87yuOjuhT0uW5oe6aaAEtR978cm-q8dfly45flqMrd_ifhi9GCsMlyi8dpQ42Ou1etZljFZuWjfyk8CN1c5DaHRwhqjScAPIFp6xmzKIRUJ_xdQfUSfSlujLaixtScU518EoNP4oo1v7E8RAz6ZO4g2N4Xqs8OvSxYydcoTEg42QnLHe9JnXgI37Q5gSwinwaPsG3Ry56UYiLoL8mCUa74S51y02VsIgVmmGWgaXjM-i_lCiKQDBiBnvWlka4XhVuvd6ZWibM9cbCPtPg';

const t = (
  tcId: number,
  comment: string,
  jws: string,
  result: 'valid' | 'invalid' = 'invalid',
  flags: readonly string[] = [],
): WycheproofJwsTest => ({ tcId, comment, jws, result, flags });

export const WYCHEPROOF_JWS_GROUPS: readonly WycheproofJwsGroup[] = [
  {
    comment: 'hs256',
    key: {
      alg: 'HS256',
      use: 'sig',
      k: '-ebuDNsVZ2iJtoZ-akfXTSCt4UO2cruLCsbWlBinggE',
      kid: 'kid-aes-sign',
      kty: 'oct',
    },
    tests: [
      t(1, 'acceptsValid', `${HS_HEADER}.Zm9v.${HS_SIG}`, 'valid'),
      t(
        2,
        'rejectsModifiedSignature',
        `${HS_HEADER}.Zm9v.XD37p4c_0jmreSrBSDmE0F3mYSPtkZ3WrSyI5wb_KTg`,
      ),
      t(3, 'rejectsMissingSignature', `${HS_HEADER}.Zm9v.`),
      t(4, 'rejectsMissingSignatureAndSeparator', `${HS_HEADER}.Zm9v`),
      t(5, 'rejectsModifiedPayload', `${HS_HEADER}.WG9v.${HS_SIG}`),
      t(6, 'rejectsMissingPayload', `${HS_HEADER}..${HS_SIG}`),
      t(7, 'rejectsMissingPayloadAndSeparator', `${HS_HEADER}.${HS_SIG}`),
      t(
        8,
        'rejectsModifiedHeader',
        `eyJhbGciOiJIUzI1NiIsImtpZCI6IlhpZC1hZXMtc2lnbiJ9.Zm9v.${HS_SIG}`,
      ),
      t(9, 'rejectsMissingHeader', `.Zm9v.${HS_SIG}`),
      t(10, 'rejectsMissingHeaderAndSeparator', `Zm9v.${HS_SIG}`),
      t(11, 'rejectsMissingHeaderAndSignature', '.Zm9v.'),
      t(12, 'rejectsMissingHeaderSignatureAndSeparators', 'Zm9v'),
      t(13, 'rejectsEmptyString', ''),
      t(14, 'rejectsExtraEmptyComponent', `${HS_HEADER}.Zm9v.${HS_SIG}.`),
      t(15, 'rejectsExtraComponent', `${HS_HEADER}.Zm9v.${HS_SIG}.foo`),
      t(
        16,
        'rejectsNoneAlgorithmAndMissingSignature',
        'eyJhbGciOiJub25lIiwia2lkIjoia2lkLWFlcy1zaWduIn0.Zm9v.',
      ),
      t(
        17,
        'rejectsValidJsonSerialization',
        `{"payload":"Zm9v","signatures":[{"protected":"${HS_HEADER}","header":{"unknown":"untrustworthy"},"signature":"${HS_SIG}"}`,
        'invalid',
        ['JsonSerialization'],
      ),
    ],
  },
  {
    comment: 'es256',
    key: {
      alg: 'ES256',
      use: 'sig',
      x: '04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY',
      y: 'UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw',
      crv: 'P-256',
      kid: 'kid-ec-sign',
      kty: 'EC',
    },
    tests: [
      t(18, 'acceptsValid', `${ES_HEADER}.Zm9v.${ES_SIG}`, 'valid'),
      t(
        19,
        'rejectsModifiedSignature',
        `${ES_HEADER}.Zm9v.XcA0OHyMP7ezamUd5c9kV-FrGxdx4hbGXOdplQkutrqWrte5P-pAvsE3Ve6xSyU3YDQwUHjVVOtvcrEbbnZ8yA`,
      ),
      t(20, 'rejectsMissingSignature', `${ES_HEADER}.Zm9v.`),
      t(21, 'rejectsMissingSignatureAndSeparator', `${ES_HEADER}.Zm9v`),
      t(22, 'rejectsModifiedPayload', `${ES_HEADER}.WG9v.${ES_SIG}`),
      t(23, 'rejectsMissingPayload', `${ES_HEADER}..${ES_SIG}`),
      t(24, 'rejectsMissingPayloadAndSeparator', `${ES_HEADER}.${ES_SIG}`),
      t(
        25,
        'rejectsModifiedHeader',
        `eyJhbGciOiJFUzI1NiIsImtpZCI6IlhpZC1lYy1zaWduIn0.Zm9v.${ES_SIG}`,
      ),
      t(26, 'rejectsMissingHeader', `.Zm9v.${ES_SIG}`),
      t(27, 'rejectsMissingHeaderAndSeparator', `Zm9v.${ES_SIG}`),
      t(28, 'rejectsMissingHeaderAndSignature', '.Zm9v.'),
      t(29, 'rejectsMissingHeaderSignatureAndSeparators', 'Zm9v'),
      t(30, 'rejectsEmptyString', ''),
      t(
        31,
        'rejectsSymmetryConfusionAttacks_aesKeyFromEcVerificationKeyBytes',
        'eyJhbGciOiJIUzI1NiIsImtpZCI6ImtpZC1lYy1zaWduIn0.Zm9v.TgWtz2FIRukBQ_mA5sgHa0Ybtgn7bl-YBPAi7Z0XdHU',
      ),
      t(
        32,
        'rejectsAttackerProvidedEmbeddedJwk',
        'eyJhbGciOiJFUzI1NiIsImtpZCI6ImtpZC1lYy1zaWduIiwiandrIjp7Imt0eSI6IkVDIiwia2lkIjoia2lkLWVjLXNpZ24iLCJ1c2UiOiJzaWciLCJhbGciOiJFUzI1NiIsIngiOiJNZG5UWkRJaERKYmZBU2RGcWFtY3BPMkNoOUdOS0sybTBNUWxoNDAyU3BvIiwieSI6Ijdhdko0bHFfV3l4LW5MUERCUTJZcHl0dUh5TWlvMDdCVXl2bDNqYUMtMVkiLCJjcnYiOiJQLTI1NiJ9fQ.Zm9v.4jmsollQD8ZxvySzXYnIEYA4fwaZi2ZbC0aI1J4LYmW2Bn31NhKdjms2N6o51Dff5-InWXQF9m45VtTexl6yjg',
      ),
    ],
  },
  {
    comment: 'rs256',
    key: {
      alg: 'RS256',
      use: 'sig',
      n: 'kqGboBfAWttWPCA-0cGRgsY6SaYoIARt0B_PkaEcIq9HPYNdu9n6UuWHuuTHrjF_ZoQW97r5HaAorNvrMEGTGdxCHZdEtkHvNVVmrtxTBLiQCbCozXhFoIrVcr3qUBrdGnNn_M3jJi7Wg7p_-x62nS5gNG875oyheRkutHsQXikFZwsN3q_TsPNOVlCiHy8mxzaFTUQGm-X8UYexFyAivlDSjgDJLAZSWfxd7k9Gxuwa3AUfQqQcVcegmgKGCaErQ3qQbh1x7WB6iopE3_-GZ8HMAVtR9AmrVscqYsnjhaCehfAI0iKKs8zXr8tISc0ORbaalrkk03H1ZrsEnDKEWQ',
      e: 'AQAB',
      kid: 'kid-rsa-sign',
      kty: 'RSA',
    },
    tests: [
      t(33, 'acceptsValid', `${RS_HEADER}.Zm9v.${RS_SIG}`, 'valid'),
      t(34, 'rejectsModifiedSignature', `${RS_HEADER}.Zm9v.X${RS_SIG.slice(1)}`),
      t(35, 'rejectsMissingSignature', `${RS_HEADER}.Zm9v.`),
      t(36, 'rejectsMissingSignatureAndSeparator', `${RS_HEADER}.Zm9v`),
      t(37, 'rejectsModifiedPayload', `${RS_HEADER}.WG9v.${RS_SIG}`),
      t(38, 'rejectsMissingPayload', `${RS_HEADER}..${RS_SIG}`),
      t(39, 'rejectsMissingPayloadAndSeparator', `${RS_HEADER}.${RS_SIG}`),
      t(
        40,
        'rejectsModifiedHeader',
        `eyJhbGciOiJSUzI1NiIsImtpZCI6IlhpZC1yc2Etc2lnbiJ9.Zm9v.${RS_SIG}`,
      ),
      t(41, 'rejectsMissingHeader', `.Zm9v.${RS_SIG}`),
      t(42, 'rejectsMissingHeaderAndSeparator', `Zm9v.${RS_SIG}`),
      t(43, 'rejectsMissingHeaderAndSignature', '.Zm9v.'),
      t(44, 'rejectsMissingHeaderSignatureAndSeparator', 'Zm9v'),
      t(45, 'rejectsEmptyString', ''),
      t(
        46,
        'lengthOfSequenceUsesLongFormEncoding',
        `${RS_HEADER}.Zm9v.KudI1-Bo-NhWAmNYu-aEGQA3ciNp-gKgGJETRino-l25uRh9peU1GWjmFfnda0SSZK8msCFMQ-ibIZxkwC1CUjxBRNwG1LqVtBa2mHtedT3lxKaS0nAQAzhsg0XWAEUjgnH1qtsYXknGzh-Vi_uVsu2yfPy6YhH9_8Ian984VRMzitHDzeNVcm1jc4vcB6iFicSl4cXWSijLxJSlVkDqMi8Neb3Zw-NQI3mQIt_3Eq51MncS-1vLBr0_qdAFREXVduyb-gRzgGSrE2pMxEO4Bbp5fvYnjaKsSdtNVvzayKwBDO418mfGzRbQyzpR2EeAFGIAkVRb_Mfh7Uil8nhBeg`,
        'invalid',
        ['ModifiedPadding'],
      ),
      t(
        47,
        'lengthOfSequenceContainsALeading0',
        `${RS_HEADER}.Zm9v.X8GIjUhtXgLeqJWHkaPaofWGF3PEJx0NpL8aj6sMI7d_gJyhERVrTvZQDEStdB6u3KLWPFc546RqawGYVaFEi_DmlIDfULOOx0bIxp1SDkDLHCaGXKq4pFd_vKngHu-Q2hr4A8WxdO-zaU99MSvlGrfUD5tdSpSV1yfdxSz0NRX0e60jA4Jx9iUbbC5i9iKj9DrxEmXm_EOygBiOlAH4_DfryfggoIFt3sp0LGcEEHsDc_oeFChLatwHhoSFqhK-ak-GF4Zsz8VW0K14gCufcNyWM4W-Qnv9UvHZaq39LE5akGUc7DxTFcnriw0gs1CtLl-u4-8vma6bBkHTanQ92Q`,
        'invalid',
        ['ModifiedPadding'],
      ),
      t(
        48,
        'lengthOfSequenceUses50InsteadOf49',
        `${RS_HEADER}.Zm9v.Gp0CRlwcx8OiQw_l7SS8f7j3KhiimSYtABJ6esU-fuebUSXajLaA25SZd8LdkxlLZloybb-hfnDw-IS7SepWcjXeP_u_tcWgrj3ogK2T5m2E-6FAxY2rwR80rAct83ZMupyZkw_ICaJ3MRyl77biMpbsGgeeniWnbyPnMx_LSdTBKNbuNn2uARNNS5G49ceEC2hZ8Id-8CyMj2hNE2z22vkV6yf7dN3BbkNWmuCt0H3ycSKk3Aftnd5feHLNsivtJxMwCYRPcAej1-FD2IvSsor_-8OAbr2GyDPqq6Icjo4ZxIoSaQJ7xYk4RMXH-SERhKg0dK3SPaiHTB55YrUCJg`,
        'invalid',
        ['ModifiedPadding'],
      ),
    ],
  },
];

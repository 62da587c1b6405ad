// An API token travels in `Authorization: Bearer TOKEN`, an HTTP header value: blanks at either end
// are stripped on the way, and control or non-ASCII characters are refused by clients. A token
// holding any of them could never be sent, and would lock every change out of the API.
export const SENDABLE_TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
export const TOKEN_EXPECTED = 'expected visible ASCII characters and spaces, no blank at either end (it is sent in an HTTP header)';

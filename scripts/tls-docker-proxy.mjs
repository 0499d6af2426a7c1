// A TLS-only front for the local Docker socket, for the remote-engine tests: it requires a client
// certificate signed by the test CA (no certificate, or another CA's, is refused in the handshake)
// and forwards each accepted connection, byte for byte, to /var/run/docker.sock.
// TLS 1.2 at most: under TLS 1.3 the client finishes its handshake before the server checks its
// certificate, so a refusal would reach the client as a close after it, not during the handshake.
// Usage: node tls-docker-proxy.mjs <tls-dir> <port>; started by scripts/setup-remote-docker.sh.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createServer } from 'node:tls';
import { join } from 'node:path';

const [dir, port] = process.argv.slice(2);
const read = (name) => readFileSync(join(dir, name));
const server = createServer(
  { key: read('server-key.pem'), cert: read('server-cert.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' },
  (client) => {
    const docker = connect('/var/run/docker.sock');
    client.pipe(docker).pipe(client);
    const close = () => { client.destroy(); docker.destroy(); };
    client.on('error', close).on('close', close);
    docker.on('error', close).on('close', close);
  },
);
server.on('tlsClientError', () => {});
server.listen(Number(port), '127.0.0.1');

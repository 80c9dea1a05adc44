#!/usr/bin/env python3
# Maintainer tool: regenerates man3/*.3 from the table below.  The pages
# are committed; edit the table and rerun rather than editing pages.
import os, textwrap
OUT = os.path.dirname(os.path.abspath(__file__))
DATE = '2026-11-24'
HDR = '.TH {name} 3 {date} "libzctls 0.1" "libzctls Manual"\n'
INC = '.nf\n.B #include <zctls.h>\n.PP\n'

def esc(s):
    return s.replace('\\', '\\e').replace('-', '\\-')

RET_INT = ('returns 0 on success and \\-1 on failure; the reason is in '
           '.BR zctls_config_error (3).')
pages = []
def page(name, proto, desc, ret, see, errors=None, extra=None):
    pages.append((name, proto, desc, ret, see, errors, extra))

cfg_ret = ('.BR {n} ()\nreturns 0 on success and \\-1 on failure;\n'
           '.BR zctls_config_error (3)\nsays why.')
conn_err = ('On failure, the reason is available from\n.BR zctls_error (3)\nand\n.BR zctls_error_code (3).')
want = ('With a non-blocking socket, the call may instead return\n.B ZCTLS_WANT_POLLIN\nor\n.BR ZCTLS_WANT_POLLOUT :\nwait with\n.BR poll (2)\non\n.BR zctls_pollfd (3)\nfor that event and repeat the call with the same arguments.')

page('zctls_config_new', ['struct zctls_config *zctls_config_new(void);'],
 'allocates a configuration with the defaults: TLS 1.2 to TLS 1.3, the OpenSSL handshake engine, the\n.B auto\nbackend, peer verification on, the system CA store. A configuration may be shared by any number of contexts; each context keeps its own reference, so the caller may free it at any time after creating them.',
 '.BR zctls_config_new ()\nreturns the new configuration, or NULL if memory is exhausted.',
 ['zctls_config_free', 'zctls_server', 'zctls_client', 'zctls'])
page('zctls_config_free', ['void zctls_config_free(struct zctls_config *config);'],
 'drops the caller\'s reference to\n.IR config .\nContexts created from it keep theirs. NULL is accepted.',
 '.BR zctls_config_free ()\nreturns no value.', ['zctls_config_new'])
page('zctls_config_error', ['const char *zctls_config_error(struct zctls_config *config);'],
 'returns the message of the last failed call on\n.IR config ,\nincluding a failure of\n.BR zctls_server (3)\nor\n.BR zctls_client (3)\nto build a context from it (unreadable certificate, unknown cipher, version unsupported by the engine).',
 '.BR zctls_config_error ()\nreturns the message, or NULL if no call has failed. The string belongs to\n.IR config .',
 ['zctls_config_new', 'zctls_error'])
page('zctls_config_add_keypair_file', ['int zctls_config_add_keypair_file(struct zctls_config *config,', '    const char *cert_file, const char *key_file);'],
 'adds a certificate chain (PEM, leaf first) and its private key. A server needs at least one pair; up to eight may be added. With several pairs the server chooses by the name the client sent (SNI): the callback set with\n.BR zctls_config_set_sni_cb (3)\nif any, otherwise the first pair whose certificate matches the name, otherwise the first pair. A client uses the first pair as its client certificate.',
 cfg_ret.format(n='zctls_config_add_keypair_file'), ['zctls_config_set_sni_cb', 'zctls_server'])
page('zctls_config_set_ca_file', ['int zctls_config_set_ca_file(struct zctls_config *config,', '    const char *ca_file);'],
 'sets the PEM file of certificate authorities a client trusts when verifying the server. Without it the system store is used.',
 cfg_ret.format(n='zctls_config_set_ca_file'), ['zctls_config_insecure_noverify', 'zctls_connect'])
page('zctls_config_set_ciphers', ['int zctls_config_set_ciphers(struct zctls_config *config,', '    const char *tls12);'],
 'restricts the TLS 1.2 cipher suites, in the naming of the configured engine: an OpenSSL cipher string (for example\n.BR ECDHE\\-ECDSA\\-AES128\\-GCM\\-SHA256 )\nfor the OpenSSL engine, a colon-separated list of IANA or mbedTLS names (for example\n.BR TLS_ECDHE_ECDSA_WITH_AES_128_CCM )\nfor the mbedTLS engine. Only suites whose record protection the library installs can complete a handshake: AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305 and AES-128-CCM. The list is checked when a context is created.',
 cfg_ret.format(n='zctls_config_set_ciphers'), ['zctls_config_set_ciphersuites'])
page('zctls_config_set_ciphersuites', ['int zctls_config_set_ciphersuites(struct zctls_config *config,', '    const char *tls13);'],
 'sets the TLS 1.3 cipher suites (OpenSSL engine only), colon-separated, for example\n.BR TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256 .\nThe default is the four suites the library supports.',
 cfg_ret.format(n='zctls_config_set_ciphersuites'), ['zctls_config_set_ciphers'])
page('zctls_config_set_alpn', ['int zctls_config_set_alpn(struct zctls_config *config,', '    const char *alpn);'],
 'sets the application protocols, comma-separated in order of preference, for example\n.BR h2,http/1.1 .\nA server selects the first of its protocols the client offers and fails the handshake with no_application_protocol if there is none. The result is reported by\n.BR zctls_conn_alpn (3).',
 cfg_ret.format(n='zctls_config_set_alpn'), ['zctls_conn_alpn'])
page('zctls_config_set_sni_cb', ['typedef int (*zctls_sni_cb)(const char *servername, void *arg);', '', 'int zctls_config_set_sni_cb(struct zctls_config *config,', '    zctls_sni_cb cb, void *arg);'],
 'installs a server-side callback that chooses the key pair for a connection.\n.I cb\nreceives the name the client sent, or NULL, and returns the index of a pair added with\n.BR zctls_config_add_keypair_file (3)\n(0 for the first), or \\-1 to refuse the connection with unrecognized_name. It runs during the handshake, in the thread driving it.',
 cfg_ret.format(n='zctls_config_set_sni_cb'), ['zctls_config_add_keypair_file', 'zctls_conn_servername'])
page('zctls_config_set_versions', ['int zctls_config_set_versions(struct zctls_config *config,', '    int min_version, int max_version);'],
 'sets the range of protocol versions,\n.B ZCTLS_TLS1_2\nor\n.BR ZCTLS_TLS1_3 .\nThe mbedTLS engine supports TLS 1.2 only; creating a context from a configuration that demands 1.3 with that engine fails.',
 cfg_ret.format(n='zctls_config_set_versions'), ['zctls_config_set_engine', 'zctls_conn_version'])
page('zctls_config_set_engine', ['int zctls_config_set_engine(struct zctls_config *config,', '    enum zctls_engine engine);'],
 'chooses the library that performs the handshake:\n.B ZCTLS_ENGINE_OPENSSL\n(OpenSSL 3, TLS 1.2 and 1.3, the default) or\n.B ZCTLS_ENGINE_MBEDTLS\n(mbedTLS 2.28, TLS 1.2). Either way the record layer after the handshake is the library\'s own (see\n.BR zctls_config_set_backend (3)).',
 cfg_ret.format(n='zctls_config_set_engine'), ['zctls_config_set_backend', 'zctls_conn_engine'])
page('zctls_config_set_backend', ['int zctls_config_set_backend(struct zctls_config *config,', '    enum zctls_backend backend);'],
 'chooses the record backend.\n.TP\n.B ZCTLS_BACKEND_AUTO\nzctls.ko if its TCP ULP attaches to the socket, else the user-space backend; the reason is recorded.\n.TP\n.B ZCTLS_BACKEND_KERNEL\nzctls.ko (TCP_ULP "zctls"); the connection fails with\n.B ZCTLS_E_BACKEND\nif it is unavailable.\n.TP\n.B ZCTLS_BACKEND_KTLS\nthe kernel\'s own tls.ko (TCP_ULP "tls"), for comparison. It does not keep the promise of\n.BR zctls (7):\nit may write unauthenticated plaintext to the receive buffer;\n.BR zctls_conn_hides_unauthenticated (3)\nreturns 0 for it.\n.TP\n.B ZCTLS_BACKEND_USER\nAEAD in this process into a guarded arena (see\n.BR zctls (7)).\n.PP\nA backend named explicitly is never replaced silently.',
 cfg_ret.format(n='zctls_config_set_backend'), ['zctls_conn_backend', 'zctls_conn_backend_reason', 'zctls'])
page('zctls_config_insecure_noverify', ['int zctls_config_insecure_noverify(struct zctls_config *config);'],
 'disables verification of the server\'s certificate and name by clients. For testing only: the connection is then open to any active attacker.',
 cfg_ret.format(n='zctls_config_insecure_noverify'), ['zctls_config_set_ca_file'])
page('zctls_server', ['struct zctls *zctls_server(struct zctls_config *config);'],
 'creates a server context from\n.IR config ,\nwhich must hold at least one key pair. Certificates and keys are loaded now. Connections are created from it with\n.BR zctls_accept (3)\nor\n.BR zctls_accept_socket (3);\nthe server context must outlive them.',
 '.BR zctls_server ()\nreturns the context, or NULL; then\n.BR zctls_config_error (3)\nsays why.', ['zctls_accept', 'zctls_free'])
page('zctls_client', ['struct zctls *zctls_client(struct zctls_config *config);'],
 'creates a client context. It becomes a connection when\n.BR zctls_connect (3),\n.BR zctls_connect_servername (3)\nor\n.BR zctls_connect_socket (3)\nsucceeds, and serves one connection.',
 '.BR zctls_client ()\nreturns the context, or NULL; then\n.BR zctls_config_error (3)\nsays why.', ['zctls_connect', 'zctls_free'])
page('zctls_accept', ['int zctls_accept(struct zctls *server, struct zctls **conn,', '    int listen_fd);'],
 'accepts a TCP connection on\n.I listen_fd\nand wraps it as\n.BR zctls_accept_socket (3)\ndoes; the library owns and closes the new socket. If\n.I listen_fd\nis non-blocking, so is the new socket. The handshake is not performed here.',
 '.BR zctls_accept ()\nreturns 0 and stores the connection in\n.IR *conn ,\nreturns\n.B ZCTLS_WANT_POLLIN\nif no connection is pending on a non-blocking socket, or \\-1. If\n.I *conn\nis not NULL after a failure, its error says why and it must be freed with\n.BR zctls_free (3);\notherwise see\n.BR zctls_error (3)\non\n.IR server .',
 ['zctls_accept_socket', 'zctls_handshake'])
page('zctls_accept_socket', ['int zctls_accept_socket(struct zctls *server, struct zctls **conn,', '    int fd);'],
 'creates a server-side connection on the connected TCP socket\n.IR fd ,\nwhich stays the caller\'s. The record backend is chosen here, because a kernel backend must attach to the plain TCP socket; see\n.BR zctls_config_set_backend (3).',
 '.BR zctls_accept_socket ()\nreturns 0 or \\-1. After a failure\n.I *conn\nmay hold a connection whose\n.BR zctls_error (3)\nsays why (for example\n.B ZCTLS_E_BACKEND\nwhen a forced backend is unavailable); free it with\n.BR zctls_free (3).',
 ['zctls_accept', 'zctls_handshake'])
page('zctls_connect', ['int zctls_connect(struct zctls *client, const char *host,', '    const char *port);'],
 'resolves\n.I host\nand\n.IR port ,\nconnects a TCP socket (blocking) and turns\n.I client\ninto a connection that will verify the server\'s certificate against\n.IR host .\nThe library owns the socket. Make it non-blocking with\n.BR fcntl (2)\non\n.BR zctls_pollfd (3)\nif wanted.',
 '.BR zctls_connect ()\nreturns 0 or \\-1 with\n.BR zctls_error (3)\nset.', ['zctls_connect_servername', 'zctls_connect_socket', 'zctls_handshake'])
page('zctls_connect_servername', ['int zctls_connect_servername(struct zctls *client, const char *host,', '    const char *port, const char *servername);'],
 'is\n.BR zctls_connect (3)\nbut sends and verifies\n.I servername\ninstead of\n.IR host ,\nfor example to connect to an address while verifying a name.',
 '.BR zctls_connect_servername ()\nreturns 0 or \\-1 with\n.BR zctls_error (3)\nset.', ['zctls_connect'])
page('zctls_connect_socket', ['int zctls_connect_socket(struct zctls *client, int fd,', '    const char *servername);'],
 'makes\n.I client\na connection on the connected TCP socket\n.IR fd ,\nwhich stays the caller\'s.\n.I servername\nis sent as SNI (unless it is an IP address) and the certificate must match it; it may be NULL only with\n.BR zctls_config_insecure_noverify (3).',
 '.BR zctls_connect_socket ()\nreturns 0 or \\-1 with\n.BR zctls_error (3)\nset.', ['zctls_connect', 'zctls_handshake'])
page('zctls_handshake', ['int zctls_handshake(struct zctls *conn);'],
 'performs the TLS handshake in user space with the configured engine, then derives the traffic keys and installs them in the record backend. The handshake engine is fed one record at a time, so it never consumes bytes that follow the handshake; they are read by the backend. Calling it is optional: the data calls perform the handshake first if needed.\n.PP\n' + want,
 '.BR zctls_handshake ()\nreturns 0 once the connection is established, \\-1 on failure (for example\n.B ZCTLS_E_VERIFY\nor\n.BR ZCTLS_E_HANDSHAKE ),\nor a WANT value. ' + conn_err, ['zctls_error', 'zctls_conn_version'])
page('zctls_recv', ['ssize_t zctls_recv(struct zctls *conn, void *buf, size_t len);'],
 'copies up to\n.I len\nbytes of received application data into\n.IR buf .\nEvery byte has passed AEAD verification; a record that fails it is never copied, not even in part, a bad_record_mac alert is sent and the connection fails with\n.BR ZCTLS_E_BAD_RECORD_MAC .\nA record that TLS forbids fails the connection with\n.B ZCTLS_E_PROTOCOL\nand the alert named in parentheses: a TLS 1.2 record version other than 3,3 (protocol_version); a length field over 2^14+2048 bytes in TLS 1.2 or 2^14+256 in TLS 1.3, more than 2^14 bytes of plaintext, or a TLS 1.3 inner plaintext over 2^14+1 bytes, padding included (record_overflow); an unexpected content type (unexpected_message). On the kernel backends the kernel refuses such records (EBADMSG gives\n.BR ZCTLS_E_BAD_RECORD_MAC ,\nEMSGSIZE and EINVAL give\n.BR ZCTLS_E_PROTOCOL )\nand may report it only once; the library keeps the error.\nAlerts, KeyUpdate and NewSessionTicket messages are handled internally.\n.PP\n' + want,
 '.BR zctls_recv ()\nreturns the number of bytes copied, 0 when the peer has sent close_notify, \\-1 on failure (a fatal alert from the peer gives\n.B ZCTLS_E_ALERT\nand names it; TCP closed without close_notify gives\n.BR ZCTLS_E_TRUNCATED ),\nor a WANT value. Errors are sticky. ' + conn_err, ['zctls_recv_borrow', 'zctls_send'])
page('zctls_recv_borrow', ['ssize_t zctls_recv_borrow(struct zctls *conn, const void **buf);'],
 'lends the caller the remaining plaintext of the next record without copying it. The memory is a slot of the connection\'s receive arena whose view was made readable only after the record\'s tag verified; it stays valid and unchanged until\n.BR zctls_release (3).\nEach call lends one record (or what remains of a record partly consumed by\n.BR zctls_recv (3)).\nWith zctls.ko the slot is one of the module\'s own arena, revealed by the kernel, and nothing is copied; where that arena is unavailable, and with tls.ko, the record is received by\n.BR recvmsg (2)\ninto the library\'s arena and then lent, which costs a copy;\n.BR zctls_conn_backend_reason (3)\nsays which.\n.PP\nWhen every slot of the context\'s zctls.ko arena is revealed (see\n.BR zctls_config_set_arena_size (3)),\nthe record is received by copy into the library\'s own arena and lent from there: the call neither waits nor fails for that reason.\n.BR zctls_conn_rx_stats (3)\ncounts, per connection, records lent without copy, records copied, and copies made because the arena was full.\n.PP\n' + want + '\n.PP\nBefore waiting for\n.B POLLIN\non\n.BR zctls_pollfd (3),\ncall again while\n.BR zctls_pending (3)\nreturns 1 (or until the call returns\n.BR ZCTLS_WANT_POLLIN ):\nrecords the library already took from the kernel do not make the socket readable.',
 '.BR zctls_recv_borrow ()\nreturns the number of bytes at\n.IR *buf ,\n0 at close_notify, \\-1 on failure (including\n.B ZCTLS_E_INVALID\nwhen every slot is lent), or a WANT value. On anything but a positive return\n.I *buf\nis NULL. ' + conn_err, ['zctls_release', 'zctls_recv', 'zctls_pending', 'zctls_conn_rx_stats', 'zctls'])
page('zctls_release', ['int zctls_release(struct zctls *conn, const void *buf);'],
 'returns a buffer lent by\n.BR zctls_recv_borrow (3).\nIts view becomes inaccessible again before the slot can be reused; touching it afterwards raises SIGSEGV.',
 '.BR zctls_release ()\nreturns 0, or \\-1 if\n.I buf\nwas not lent by\n.I conn\nor was already released.', ['zctls_recv_borrow'])
page('zctls_send', ['ssize_t zctls_send(struct zctls *conn, const void *buf, size_t len);'],
 'sends application data, in records of at most 16384 bytes, up to four records per call.\n.PP\n' + want + ' A record that was built but could not leave completely is remembered; the repeated call finishes it and returns its count.',
 '.BR zctls_send ()\nreturns the number of bytes taken (possibly fewer than\n.IR len ),\n\\-1 on failure (\n.B ZCTLS_E_CLOSED\nafter\n.BR zctls_shutdown (3)),\nor a WANT value. ' + conn_err, ['zctls_sendfile', 'zctls_recv'])
page('zctls_sendfile', ['ssize_t zctls_sendfile(struct zctls *conn, int in_fd, off_t *offset,', '    size_t count);'],
 'sends up to\n.I count\nbytes of the file\n.IR in_fd ,\nstarting at\n.I *offset\n(advanced by the amount sent) or at the file position if\n.I offset\nis NULL. The kernel backends use\n.BR sendfile (2)\non the socket; the user backend reads at most one record\'s worth per call and encrypts it.',
 '.BR zctls_sendfile ()\nreturns the number of bytes sent, 0 at end of file, \\-1 or a WANT value, as\n.BR zctls_send (3).',
 ['zctls_send'])
page('zctls_shutdown', ['int zctls_shutdown(struct zctls *conn);'],
 'sends close_notify. No data may be sent afterwards; data may still be received (TLS 1.3 half-close).',
 '.BR zctls_shutdown ()\nreturns 0, \\-1 or a WANT value. ' + conn_err, ['zctls_close'])
page('zctls_close', ['int zctls_close(struct zctls *conn);'],
 'sends close_notify if the connection is established and has not sent it (best effort, without waiting), and closes the socket if the library opened it.',
 '.BR zctls_close ()\nreturns 0, or \\-1 if close_notify could not be sent.', ['zctls_shutdown', 'zctls_free'])
page('zctls_free', ['void zctls_free(struct zctls *ctx);'],
 'frees a context or connection and wipes its key material. A socket the library opened is closed. Buffers lent by\n.BR zctls_recv_borrow (3)\nbecome invalid. NULL is accepted.',
 '.BR zctls_free ()\nreturns no value.', ['zctls_close'])
page('zctls_pollfd', ['int zctls_pollfd(struct zctls *conn);'],
 'returns the socket to wait on after a\n.B ZCTLS_WANT_POLLIN\nor\n.B ZCTLS_WANT_POLLOUT\nresult. Do not read from it directly. Do not write to it directly either, with one exception: on the\n.B kernel\nand\n.B ktls\nbackends, where the kernel protects what is written, application data may be written or spliced\n.RB ( splice (2),\n.BR sendfile (2))\ninto the socket once\n.BR zctls_flush (3)\nhas returned 0, and until the next call that may queue output (any receive call, which may answer a KeyUpdate, or a send). On the\n.B user\nbackend every byte must go through\n.BR zctls_send (3).\n.PP\nAfter a receive call, data may already be inside the library, where polling does not see it: see\n.BR zctls_pending (3).',
 '.BR zctls_pollfd ()\nreturns the descriptor, or \\-1 for a context without one.', ['zctls_recv', 'zctls_send', 'zctls_flush', 'zctls_pending'])
page('zctls_error', ['const char *zctls_error(struct zctls *ctx);'],
 'returns the message describing the failure of the last call on\n.IR ctx .\nOnce a connection has failed, every later call fails with the same message.',
 '.BR zctls_error ()\nreturns the message, or NULL if no call failed. The string belongs to\n.IR ctx .',
 ['zctls_error_code', 'zctls_config_error'])
page('zctls_error_code', ['enum zctls_errcode zctls_error_code(struct zctls *ctx);'],
 'returns the typed code of the last failure on\n.IR ctx :\n.TP\n.B ZCTLS_E_SYSTEM\na system call failed.\n.TP\n.B ZCTLS_E_NOMEM\nout of memory.\n.TP\n.B ZCTLS_E_INVALID\nbad argument or state; the connection stays usable.\n.TP\n.B ZCTLS_E_CONFIG\nunusable configuration.\n.TP\n.B ZCTLS_E_HANDSHAKE\nthe handshake failed, including versions or ciphers in common, garbage and peers closing mid-handshake.\n.TP\n.B ZCTLS_E_VERIFY\nthe peer certificate or its name was rejected.\n.TP\n.B ZCTLS_E_BACKEND\nthe requested backend is unavailable.\n.TP\n.B ZCTLS_E_BAD_RECORD_MAC\na record failed authentication; nothing of it was revealed.\n.TP\n.B ZCTLS_E_ALERT\nthe peer sent a fatal alert, named in the message.\n.TP\n.B ZCTLS_E_PROTOCOL\nthe peer broke the record protocol: a malformed or oversized record, a record version other than 3,3, or an unexpected record or message; the alert sent says which (see\n.BR zctls_recv (3)).\n.TP\n.B ZCTLS_E_TRUNCATED\nTCP closed without close_notify.\n.TP\n.B ZCTLS_E_CLOSED\nsending after shutdown.',
 '.BR zctls_error_code ()\nreturns the code, or\n.B ZCTLS_E_NONE\nif no call failed.', ['zctls_error'])

info = [
 ('zctls_conn_version', 'the negotiated protocol version, "TLSv1.2" or "TLSv1.3"'),
 ('zctls_conn_cipher', 'the negotiated cipher suite by its IANA name, for example "TLS_AES_128_GCM_SHA256"'),
 ('zctls_conn_alpn', 'the negotiated application protocol, or NULL if none was'),
 ('zctls_conn_servername', 'the name the client sent (on a server) or verifies (on a client), or NULL'),
 ('zctls_conn_engine', 'the handshake engine, "openssl" or "mbedtls"'),
 ('zctls_conn_backend', 'the record backend serving the connection: "kernel" (zctls.ko), "ktls" (tls.ko) or "user"'),
 ('zctls_conn_backend_reason', 'why that backend serves the connection, for example "auto: TCP_ULP zctls: ENOENT (module not loaded); using user backend". For ktls it carries a warning that tls.ko does not hide unauthenticated plaintext'),
]
for n, what in info:
    page(n, ['const char *%s(struct zctls *conn);' % n],
         'returns ' + what + '. Version, cipher and ALPN are available once the handshake has completed; backend and reason as soon as the connection exists.',
         '.BR %s ()\nreturns a string owned by\n.IR conn ,\nvalid until\n.BR zctls_free (3),\nor NULL if the information is not (yet) available.' % n,
         [x for x, _ in info if x != n][:3] + ['zctls_handshake'])
page('zctls_conn_hides_unauthenticated', ['int zctls_conn_hides_unauthenticated(struct zctls *conn);'],
 'tells whether the connection\'s backend keeps the promise of\n.BR zctls (7):\nno unauthenticated plaintext is ever written to memory the application can read. The user backend and zctls.ko do; tls.ko does not.',
 '.BR zctls_conn_hides_unauthenticated ()\nreturns 1 if the promise holds, 0 if it does not (ktls), \\-1 before a backend is chosen.',
 ['zctls_conn_backend', 'zctls_config_set_backend'])

SUMMARY = {
 'zctls_config_new': 'create a libzctls configuration',
 'zctls_config_free': 'release a libzctls configuration',
 'zctls_config_error': 'last error of a configuration',
 'zctls_config_add_keypair_file': 'add a certificate chain and private key',
 'zctls_config_set_ca_file': 'set the trusted certificate authorities',
 'zctls_config_set_ciphers': 'restrict the TLS 1.2 cipher suites',
 'zctls_config_set_ciphersuites': 'restrict the TLS 1.3 cipher suites',
 'zctls_config_set_alpn': 'set the application protocols (ALPN)',
 'zctls_config_set_sni_cb': 'choose the server key pair by server name',
 'zctls_config_set_versions': 'set the range of TLS versions',
 'zctls_config_set_engine': 'choose the handshake engine',
 'zctls_config_set_backend': 'choose the record backend',
 'zctls_config_insecure_noverify': 'disable peer verification (testing only)',
 'zctls_server': 'create a server context',
 'zctls_client': 'create a client context',
 'zctls_accept': 'accept a TLS connection on a listening socket',
 'zctls_accept_socket': 'make a server connection on an accepted socket',
 'zctls_connect': 'connect to a TLS server',
 'zctls_connect_servername': 'connect to a TLS server, verifying another name',
 'zctls_connect_socket': 'make a client connection on a connected socket',
 'zctls_handshake': 'perform the TLS handshake',
 'zctls_recv': 'receive authenticated data by copying',
 'zctls_recv_borrow': 'borrow a buffer of authenticated data without copying',
 'zctls_release': 'return a borrowed receive buffer',
 'zctls_send': 'send data',
 'zctls_sendfile': 'send data from a file',
 'zctls_shutdown': 'send close_notify',
 'zctls_close': 'end a connection',
 'zctls_free': 'free a context or connection',
 'zctls_pollfd': 'descriptor to poll for a non-blocking connection',
 'zctls_error': 'describe the last failure',
 'zctls_error_code': 'typed code of the last failure',
 'zctls_conn_version': 'negotiated TLS version',
 'zctls_conn_cipher': 'negotiated cipher suite',
 'zctls_conn_alpn': 'negotiated application protocol',
 'zctls_conn_servername': 'server name of a connection',
 'zctls_conn_engine': 'handshake engine of a connection',
 'zctls_conn_backend': 'record backend of a connection',
 'zctls_conn_backend_reason': 'why a connection got its record backend',
 'zctls_conn_hides_unauthenticated': 'whether the backend hides unauthenticated plaintext',
}

page('zctls_config_set_arena_size', ['int zctls_config_set_arena_size(struct zctls_config *config,', '    size_t bytes);'],
 'sets the size of the zctls.ko receive arena. A server or client context made from\n.I config\ncreates one arena on\n.I /dev/zctls\nand shares it among all its connections: revealed slots of every connection come out of it, and each is returned to it by\n.BR zctls_release (3)\n(or when its connection is freed).\n.I bytes\nis rounded down to whole slots (one record each, 20 KiB with 4 KiB pages); 0 selects the default of 2 MiB. The arena is charged to the user\'s\n.B RLIMIT_MEMLOCK\nonce per context, not per connection. The setting is ignored by backends without an arena (user, ktls).\n.PP\nNothing falls back silently: if the arena cannot be created or attached (module without it, the limit reached), the connection still works over zctls.ko but borrowing copies, and\n.BR zctls_conn_backend_reason (3)\nsays why. When every slot is revealed, a record is received by copy instead of waiting or failing; such events are counted in\n.BR zctls_arena_stats (3)\nper context and in\n.BR zctls_conn_rx_stats (3)\nper connection.',
 cfg_ret.format(n='zctls_config_set_arena_size') + '\nA size smaller than one slot or larger than 65536 slots is refused.', ['zctls_arena_stats', 'zctls_conn_rx_stats', 'zctls_conn_backend_reason', 'zctls_recv_borrow'])
page('zctls_config_set_verify_client', ['#define ZCTLS_VERIFY_CLIENT_NONE     0', '#define ZCTLS_VERIFY_CLIENT_OPTIONAL 1', '#define ZCTLS_VERIFY_CLIENT_REQUIRED 2', '', 'int zctls_config_set_verify_client(struct zctls_config *config,', '    int mode);'],
 'sets whether a server asks clients for a certificate.\n.TP\n.B ZCTLS_VERIFY_CLIENT_NONE\nno certificate is requested (the default).\n.TP\n.B ZCTLS_VERIFY_CLIENT_OPTIONAL\na certificate is requested; a client may send none, but one it sends must verify.\n.TP\n.B ZCTLS_VERIFY_CLIENT_REQUIRED\nthe handshake fails unless the client sends a certificate that verifies.\n.PP\nCertificates are verified against the authorities of\n.BR zctls_config_set_ca_file (3),\nwhich must be set: creating the server context fails otherwise. A failed verification fails the handshake with\n.BR ZCTLS_E_VERIFY .\nThe verified subject is reported by\n.BR zctls_conn_peer_subject (3).\nA client presents the first key pair of its configuration as its certificate.',
 cfg_ret.format(n='zctls_config_set_verify_client'), ['zctls_config_set_ca_file', 'zctls_conn_peer_subject', 'zctls_config_add_keypair_file'])
page('zctls_config_set_session_resumption', ['int zctls_config_set_session_resumption(struct zctls_config *config,', '    int enable);'],
 'turns session resumption on (non-zero) or off (0, the default).\n.PP\nA server then issues TLS 1.3 session tickets (two per full handshake, OpenSSL engine), TLS 1.2 session tickets, and keeps TLS 1.2 sessions in a session-ID cache. Ticket keys belong to the server context unless given with\n.BR zctls_config_set_ticket_keys (3);\nthe session-ID cache belongs to the configuration and is shared by every server context made from it (see\n.BR zctls_config_set_session_cache (3)),\nso a proxy whose workers each have a context made from one configuration resumes a session ID on any worker.\n.PP\nA client keeps the last session it was given and offers it on the next connection of any client context made from the same configuration (a client context is one connection). With TLS 1.3 the tickets arrive after the handshake; the library receives them like any record and hands them to the engine.\n.PP\nWhether a connection was resumed is reported by\n.BR zctls_conn_session_reused (3).\nResumption works the same on every record backend: it only changes the handshake.',
 cfg_ret.format(n='zctls_config_set_session_resumption'), ['zctls_config_set_session_cache', 'zctls_config_set_ticket_keys', 'zctls_conn_session_reused', 'zctls_server', 'zctls_client'])
page('zctls_conn_session_reused', ['int zctls_conn_session_reused(struct zctls *conn);'],
 'tells whether the handshake of\n.I conn\nresumed an earlier session (see\n.BR zctls_config_set_session_resumption (3))\ninstead of performing a full handshake.',
 '.BR zctls_conn_session_reused ()\nreturns 1 if it did, 0 if it did not or the handshake has not completed, \\-1 if\n.I conn\nis not a connection.', ['zctls_config_set_session_resumption', 'zctls_handshake'])
page('zctls_conn_peer_subject', ['const char *zctls_conn_peer_subject(struct zctls *conn);'],
 'returns the subject of the peer\'s certificate on one line, in the form\n.BR /C=..../O=..../CN=.... ,\nbut only if that certificate was verified: on a client, the server\'s certificate unless\n.BR zctls_config_insecure_noverify (3)\nwas used; on a server, a client certificate under\n.BR zctls_config_set_verify_client (3).',
 '.BR zctls_conn_peer_subject ()\nreturns the subject, owned by\n.I conn\nand valid until\n.BR zctls_free (3),\nor NULL if there is no verified certificate or the handshake has not completed.', ['zctls_config_set_verify_client', 'zctls_conn_servername'])
page('zctls_arena_stats', ['struct zctls_arena_stats {', '    unsigned int slots_total;', '    unsigned int slots_in_use;', '    unsigned long long exhausted;', '};', '', 'int zctls_arena_stats(struct zctls *ctx,', '    struct zctls_arena_stats *st);'],
 'reports on the zctls.ko receive arena of the server or client context\n.IR ctx :\n.I slots_total\nslots (see\n.BR zctls_config_set_arena_size (3)),\n.I slots_in_use\nof them revealed and not yet returned (borrowed by the caller or holding data not yet read), and\n.I exhausted\ntimes a connection found every slot in use and received a record by copy instead. The context creates its arena when it is made, if\n.I /dev/zctls\nis there and its backend is auto or kernel; a connection retries if that failed.',
 '.BR zctls_arena_stats ()\nreturns 0 and fills\n.IR st ,\nor \\-1 if\n.I ctx\nhas no arena (user or ktls backend, no zctls.ko, the arena could not be created) or is a connection of a server context;\n.BR zctls_error (3)\nsays which.', ['zctls_config_set_arena_size', 'zctls_recv_borrow', 'zctls_release'])
page('zctls_flush', ['int zctls_flush(struct zctls *conn);'],
 'sends what the library has queued for the socket of\n.IR conn :\nan alert, the answer to a peer\'s KeyUpdate, the rest of records a\n.BR zctls_send (3)\ncommitted before it returned\n.BR ZCTLS_WANT_POLLOUT .\nIt sends no application data of its own; a\n.BR zctls_send (3)\nthat returned\n.B ZCTLS_WANT_POLLOUT\nstill reports its count when repeated. An unfinished handshake is driven first, as by every verb.\n.PP\nOnce it returned 0, nothing of the library is waiting to be written: on the\n.B kernel\nand\n.B ktls\nbackends the caller may then write or splice application data into\n.BR zctls_pollfd (3)\ndirectly, until its next receive or send call on\n.IR conn .',
 '.BR zctls_flush ()\nreturns 0 when the queue is empty,\n.B ZCTLS_WANT_POLLOUT\nwhen the socket cannot take the rest now (poll for\n.B POLLOUT\nand call again), or \\-1 (a failed connection, or\n.I conn\nis not a connection). ' + conn_err, ['zctls_send', 'zctls_pollfd', 'zctls_sendfile'])
page('zctls_pending', ['int zctls_pending(struct zctls *conn);'],
 'tells whether a receive call on\n.I conn\ncan make progress without\n.BR zctls_pollfd (3)\nbecoming readable: the current record has data not yet delivered, zctls.ko has handed the library completions it has not processed yet (its arena receives records in batches), a whole record is buffered in the\n.B user\nbackend, or close_notify was received (the next call returns 0 at once).\n.PP\nAn event loop therefore calls\n.BR zctls_recv (3)\nor\n.BR zctls_recv_borrow (3)\nagain while\n.BR zctls_pending ()\nreturns 1 before it waits for\n.BR POLLIN .\nWhen it returns 0, whatever else the peer sent is still in the socket and makes it readable.',
 '.BR zctls_pending ()\nreturns 1 or 0 (also before the handshake completed and on a failed connection), or \\-1 if\n.I conn\nis not a connection.', ['zctls_recv_borrow', 'zctls_recv', 'zctls_pollfd'])
page('zctls_conn_peer_verified', ['int zctls_conn_peer_verified(struct zctls *conn);'],
 'reports on the peer\'s certificate separately from its subject: whether one was presented, and whether it verified. On a server under\n.B ZCTLS_VERIFY_CLIENT_OPTIONAL\n(see\n.BR zctls_config_set_verify_client (3))\na client may send no certificate (\\-1) or one that verified (1); one that does not verify fails the handshake with\n.BR ZCTLS_E_VERIFY ,\nafter which this call returns 0. On a client, the server\'s certificate is 1 when verified, 0 under\n.BR zctls_config_insecure_noverify (3).',
 '.BR zctls_conn_peer_verified ()\nreturns 1 if the peer presented a certificate that verified, 0 if it presented one that was not verified or was rejected, \\-1 if it presented none, the handshake has not got that far, or\n.I conn\nis not a connection.', ['zctls_conn_peer_subject', 'zctls_config_set_verify_client'])
page('zctls_conn_rx_stats', ['struct zctls_conn_rx_stats {', '    unsigned long long lent;', '    unsigned long long copied;', '    unsigned long long arena_full;', '};', '', 'int zctls_conn_rx_stats(struct zctls *conn,', '    struct zctls_conn_rx_stats *st);'],
 'reports where the records received on\n.I conn\nwere put, counting every verified record (application data, alerts, post-handshake messages):\n.I lent\nrecords zctls.ko revealed in the context\'s arena, handed over without a copy;\n.I copied\nrecords received into the library\'s own arena (decrypted there by the\n.B user\nbackend, or copied by\n.BR recvmsg (2)\nfrom zctls.ko without an arena, or from tls.ko);\n.I arena_full\nthe part of\n.I copied\nthat was copied only because every slot of the zctls.ko arena was revealed at the time (see\n.BR zctls_config_set_arena_size (3)).\nSuch a record is still delivered: borrowing never fails because the arena is full.',
 '.BR zctls_conn_rx_stats ()\nreturns 0 and fills\n.IR st ,\nor \\-1 if\n.I conn\nis not a connection or\n.I st\nis NULL.', ['zctls_recv_borrow', 'zctls_arena_stats', 'zctls_conn_backend_reason'])
page('zctls_config_set_ticket_keys', ['#define ZCTLS_TICKET_KEY_LEN 80', '', 'int zctls_config_set_ticket_keys(struct zctls_config *config,', '    const void *keys, size_t len);'],
 'gives a server the keys that protect its session tickets, instead of keys each context draws at random. Server contexts given the same keys, in one process or several, resume each other\'s sessions: a proxy with several workers, each with its own context, resumes a returning client whichever worker serves it.\n.PP\n.I keys\nholds one or two keys of\n.B ZCTLS_TICKET_KEY_LEN\nbytes each: a 16-byte name that tickets carry, a 32-byte HMAC-SHA256 secret and a 32-byte AES-256 key, all from a good random source and kept secret. The first key encrypts new tickets; the second only decrypts, so that keys can be rotated: give the new key first and the previous one second, and tickets issued before the rotation still resume; such a connection gets a ticket under the new key. A ticket under a key not given is ignored (a full handshake). TLS 1.3 tickets are used once: every resumed TLS 1.3 connection is given a new ticket. The keys are copied;\n.I len\n0 returns to random keys.\n.PP\nThe keys matter only with\n.BR zctls_config_set_session_resumption (3)\non, and apply to contexts created afterwards: to rotate, create new contexts. The TLS 1.2 session-ID cache needs no keys: it is shared by the contexts of one configuration (see\n.BR zctls_config_set_session_cache (3)).\nOnly the OpenSSL engine supports given keys: creating a server context with the mbedTLS engine from a configuration that has them fails with a message saying so.',
 cfg_ret.format(n='zctls_config_set_ticket_keys') + '\nA length that is not one or two keys, or two keys with the same name, is refused.', ['zctls_config_set_session_resumption', 'zctls_conn_session_reused', 'zctls_server'])
SUMMARY.update({
 'zctls_flush': 'send what the library has queued',
 'zctls_pending': 'whether received data waits inside the library',
 'zctls_conn_peer_verified': 'whether the peer presented a verified certificate',
 'zctls_conn_rx_stats': 'how received records were delivered (lent or copied)',
 'zctls_config_set_ticket_keys': 'session-ticket keys shared by server contexts',
})
page('zctls_config_set_session_cache', ['int zctls_config_set_session_cache(struct zctls_config *config,', '    size_t entries, unsigned lifetime);'],
 'sets the limits of the server\'s TLS 1.2 session-ID cache. The cache belongs to\n.I config\nand is shared by every server context made from it, in any thread, so a session issued by one context (say, one worker of a proxy) resumes on any other; contexts of another configuration have another cache. It is used only with\n.BR zctls_config_set_session_resumption (3)\non, by both handshake engines, and works the same on every record backend.\n.PP\nAt most\n.I entries\nsessions are kept; when the cache is full the oldest is evicted. Each is kept for\n.I lifetime\nseconds, which is also the lifetime of the sessions and tickets the server issues. A session larger than 8 KiB (a very large client certificate) is not kept. Sessions hold the master secret: an entry is wiped before its memory is freed, whether evicted, expired, replaced or freed with the configuration. With\n.I entries\n0 there is no cache: the OpenSSL engine then issues no session IDs, and only tickets resume.\n.PP\nThe defaults are 20480 entries and 300 seconds. Setting the limits empties the cache. TLS 1.3 resumes with tickets only and does not use the cache.',
 cfg_ret.format(n='zctls_config_set_session_cache') + '\nMore than 1048576 entries, or a lifetime of 0 or more than 604800 seconds (7 days), is refused.', ['zctls_config_set_session_resumption', 'zctls_config_set_ticket_keys', 'zctls_conn_session_reused', 'zctls_server'])
SUMMARY.update({
 'zctls_config_set_session_cache': 'the server\'s session-ID cache, shared by contexts',
})
SUMMARY.update({
 'zctls_config_set_arena_size': 'size of the context\'s zctls.ko receive arena',
 'zctls_config_set_verify_client': 'request and verify client certificates',
 'zctls_config_set_session_resumption': 'enable TLS session resumption',
 'zctls_conn_session_reused': 'whether a connection resumed a session',
 'zctls_conn_peer_subject': 'subject of the verified peer certificate',
 'zctls_arena_stats': 'usage of a context\'s zctls.ko receive arena',
})
os.makedirs(OUT + '/man3', exist_ok=True)
for name, proto, desc, ret, see, errors, extra in pages:
    s = HDR.format(name=name.upper(), date=DATE)
    s += '.SH NAME\n%s \\- %s\n' % (name, SUMMARY[name])
    s += '.SH SYNOPSIS\n' + INC
    for line in proto:
        s += (line + '\n') if line else '.PP\n'
    s += '.fi\n.PP\nLink with\n.IR \\-lzctls .\n'
    s += '.SH DESCRIPTION\n.BR %s ()\n%s\n' % (name, desc)
    s += '.SH RETURN VALUE\n%s\n' % ret
    s += '.SH SEE ALSO\n' + ',\n'.join('.BR %s (%s)' % (x, '7' if x == 'zctls' else '3') for x in see) + '\n'
    open('%s/man3/%s.3' % (OUT, name), 'w').write(s)
print(len(pages))

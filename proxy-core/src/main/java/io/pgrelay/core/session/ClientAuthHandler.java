package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.core.config.AuthMethod;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.auth.Md5Password;
import io.pgrelay.protocol.auth.NonceSource;
import io.pgrelay.protocol.auth.ScramServerSession;
import io.pgrelay.protocol.auth.ScramSha256;
import io.pgrelay.protocol.message.BackendMessage;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.AuthenticationCleartextPassword;
import io.pgrelay.protocol.message.backend.AuthenticationMd5Password;
import io.pgrelay.protocol.message.backend.AuthenticationSasl;
import io.pgrelay.protocol.message.backend.AuthenticationSaslContinue;
import io.pgrelay.protocol.message.backend.AuthenticationSaslFinal;
import io.pgrelay.protocol.message.frontend.PasswordMessage;
import io.pgrelay.protocol.message.frontend.SaslInitialResponse;
import io.pgrelay.protocol.message.frontend.SaslResponse;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Terminate;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;

/**
 * Authenticates a client as PostgreSQL would: SCRAM-SHA-256 (the default), md5, cleartext
 * or trust, per user. An unknown user goes through the same exchange and fails the same
 * way as a wrong password, so user names cannot be probed. On success it hands the
 * connection to what {@link ClientLogin} installs next: a session, or the admin console.
 *
 * @see <a href="https://www.postgresql.org/docs/current/sasl-authentication.html">SASL authentication</a>
 */
final class ClientAuthHandler extends ChannelInboundHandlerAdapter {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final NonceSource NONCES = NonceSource.secureRandom(RANDOM);

    /** ENDED: refused or terminated, being closed; frames the client pipelined after that are dropped. */
    private enum State { SASL_INITIAL, SASL_FINAL, MD5, CLEARTEXT, DONE, ENDED }

    private final ClientLogin login;
    private final StartupMessage startup;
    private final String user;
    private final ClientCredentials credentials;
    private State state;
    private ScramServerSession scram;
    private byte[] md5Salt;
    private final StartupDeadline deadline;

    /** {@code deadline}: started when the client connected; met when it authenticated. */
    ClientAuthHandler(ClientLogin login, StartupMessage startup, StartupDeadline deadline) {
        this.deadline = deadline;
        this.login = login;
        this.startup = startup;
        this.user = startup.user();
        this.credentials = login.credentials(user);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        try {
            requestCredentials(ctx);
        } catch (PgProtocolException e) {
            state = State.ENDED;
            login.refused();
            ClientErrors.handle(ctx.channel(), e);
        }
    }

    private void requestCredentials(ChannelHandlerContext ctx) {
        AuthMethod method = login.method(credentials);
        switch (method) {
            case TRUST -> {
                if (credentials == null) {
                    throw new PgProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                            "role \"" + user + "\" does not exist");
                }
                succeed(ctx);
                return;
            }
            case SCRAM_SHA_256 -> {
                state = State.SASL_INITIAL;
                scram = new ScramServerSession(user, credentials != null ? credentials.scramSecret() : null, NONCES);
                send(ctx, new AuthenticationSasl(List.of(ScramSha256.MECHANISM)));
            }
            case MD5 -> {
                state = State.MD5;
                md5Salt = new byte[4];
                RANDOM.nextBytes(md5Salt);
                send(ctx, new AuthenticationMd5Password(md5Salt));
            }
            case PASSWORD -> {
                state = State.CLEARTEXT;
                send(ctx, AuthenticationCleartextPassword.INSTANCE);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (state == State.ENDED) {
                return; // as the server after a FATAL error: nothing more is read
            }
            byte type = Wire.frameType(frame);
            if (type == Terminate.TYPE) {
                state = State.ENDED;
                ctx.close();
                return;
            }
            if (type != PasswordMessage.TYPE) {
                throw PgProtocolException.violation("expected password response, got message type "
                        + (type & 0xff));
            }
            ByteBuf body = Wire.frameBody(frame);
            switch (state) {
                case SASL_INITIAL -> {
                    SaslInitialResponse initial = SaslInitialResponse.decode(body);
                    byte[] serverFirst = scram.handleClientFirst(initial.mechanism(), initial.data());
                    state = State.SASL_FINAL;
                    send(ctx, new AuthenticationSaslContinue(serverFirst));
                }
                case SASL_FINAL -> {
                    byte[] serverFinal = scram.handleClientFinal(SaslResponse.decode(body).data());
                    ctx.write(Messages.encode(ctx.alloc(), new AuthenticationSaslFinal(serverFinal)));
                    succeed(ctx);
                }
                case MD5 -> {
                    String response = PasswordMessage.decode(body).password();
                    if (credentials == null || !md5Matches(response)) {
                        throw passwordFailed();
                    }
                    succeed(ctx);
                }
                case CLEARTEXT -> {
                    String password = PasswordMessage.decode(body).password();
                    if (credentials == null || !cleartextMatches(password)) {
                        throw passwordFailed();
                    }
                    succeed(ctx);
                }
                case DONE, ENDED -> throw PgProtocolException.violation("unexpected password message");
            }
        } finally {
            frame.release();
        }
    }

    private boolean awaitingClient() {
        return state != State.DONE && state != State.ENDED;
    }

    private boolean md5Matches(String response) {
        return credentials.md5Hash() != null && Md5Password.verifyEncoded(credentials.md5Hash(), md5Salt, response);
    }

    private boolean cleartextMatches(String password) {
        if (credentials.plainPassword() != null) {
            return MessageDigest.isEqual(credentials.plainPassword().getBytes(StandardCharsets.UTF_8),
                    password.getBytes(StandardCharsets.UTF_8));
        }
        return credentials.md5Hash() != null && MessageDigest.isEqual(
                credentials.md5Hash().getBytes(StandardCharsets.US_ASCII),
                Md5Password.encode(user, password).getBytes(StandardCharsets.US_ASCII));
    }

    private PgProtocolException passwordFailed() {
        return new PgProtocolException(SqlState.INVALID_PASSWORD,
                "password authentication failed for user \"" + user + "\"");
    }

    private void succeed(ChannelHandlerContext ctx) {
        state = State.DONE;
        deadline.met();
        boolean console = ClientLogin.wantsConsole(startup);
        if (console && !login.mayUseConsole(user)) {
            state = State.ENDED; // frames pipelined behind the password are dropped, not answered again
            login.refused();
            ClientErrors.fatal(ctx.channel(), SqlState.INSUFFICIENT_PRIVILEGE, "permission denied: user \"" + user
                    + "\" may not use the pgrelay admin console (database \"" + ClientLogin.CONSOLE_DATABASE
                    + "\"; see admin.console-users)");
            return;
        }
        ctx.pipeline().replace(this, console ? "console" : "session",
                login.loggedIn(ctx.channel(), startup, credentials, console));
    }

    private void send(ChannelHandlerContext ctx, BackendMessage message) {
        ctx.writeAndFlush(Messages.encode(ctx.alloc(), message));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (awaitingClient()) {
            ctx.read();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.ENDED) {
            return; // the connection is already refused and closing
        }
        state = State.ENDED;
        if (cause instanceof PgProtocolException) {
            login.refused();
        }
        ClientErrors.handle(ctx.channel(), cause);
    }
}

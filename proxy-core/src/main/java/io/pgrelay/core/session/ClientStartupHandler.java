package io.pgrelay.core.session;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.codec.FrameDecoder;
import io.pgrelay.protocol.codec.StartupPacketDecoder;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.NegotiateProtocolVersion;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import io.pgrelay.protocol.message.frontend.GssEncRequest;
import io.pgrelay.protocol.message.frontend.SslRequest;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Terminate;

import java.util.ArrayList;
import java.util.List;

/**
 * The first handler of every client connection: answers SSLRequest (switching to TLS) and
 * GSSENCRequest ('N'), forwards a CancelRequest, and checks the StartupMessage (protocol
 * version, user, connection limit), all within the startup deadline ({@link StartupDeadline}).
 * Then it replaces itself with the authentication step
 * and the startup-packet decoder with the regular frame decoder.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP">Start-up</a>
 */
public final class ClientStartupHandler extends ChannelInboundHandlerAdapter {
    private static final byte[] SSL_YES = {'S'};
    private static final byte[] SSL_NO = {'N'};

    private final ClientAdmission admission;
    private final ClientLogin login;
    private StartupDeadline deadline;

    public ClientStartupHandler(ClientAdmission admission, ClientLogin login) {
        this.admission = admission;
        this.login = login;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        deadline = StartupDeadline.start(ctx.channel(), admission.startupTimeout());
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof SslRequest) {
            onSslRequest(ctx);
        } else if (msg instanceof GssEncRequest) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(SSL_NO));
        } else if (msg instanceof CancelRequest cancel) {
            admission.cancel(cancel.processId(), cancel.secretKey());
            ctx.close();
        } else if (msg instanceof StartupMessage startup) {
            onStartup(ctx, startup);
        } else if (msg instanceof Terminate) {
            ctx.close(); // as the server: no error for a client that leaves before it logs in
        } else {
            io.netty.util.ReferenceCountUtil.release(msg);
            throw PgProtocolException.violation("unexpected startup packet");
        }
    }

    private void onSslRequest(ChannelHandlerContext ctx) {
        boolean alreadyTls = ctx.pipeline().get(SslHandler.class) != null;
        if (alreadyTls) {
            throw PgProtocolException.violation("SSL request received on an encrypted connection");
        }
        if (!admission.tls().offered()) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(SSL_NO));
            return;
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(SSL_YES));
        ctx.pipeline().addFirst("tls", admission.tls().context().newHandler(ctx.alloc()));
    }

    private void onStartup(ChannelHandlerContext ctx, StartupMessage startup) {
        if (admission.tls().required() && ctx.pipeline().get(SslHandler.class) == null) {
            throw new PgProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "pgrelay requires SSL: connect with sslmode=require");
        }
        String user = startup.user();
        if (user == null || user.isEmpty()) {
            throw new PgProtocolException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet");
        }
        if (startup.parameters().containsKey("replication")
                && !"false".equalsIgnoreCase(startup.parameters().get("replication"))
                && !"0".equals(startup.parameters().get("replication"))) {
            throw new PgProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "replication connections are not supported through pgrelay; connect to the primary directly");
        }
        admission.admit(ctx.channel());
        deadline.authenticating();

        List<String> unsupportedOptions = new ArrayList<>();
        for (String name : startup.parameters().keySet()) {
            if (name.startsWith("_pq_.")) {
                unsupportedOptions.add(name);
            }
        }
        if (startup.minorVersion() > 0 || !unsupportedOptions.isEmpty()) {
            ctx.write(Messages.encode(ctx.alloc(), new NegotiateProtocolVersion(0, unsupportedOptions)));
        }

        // Replace this handler first: bytes the old decoder still holds flow to the new one
        // and from there to the authentication step.
        ctx.pipeline().replace(this, "auth", new ClientAuthHandler(login, startup, deadline));
        ctx.pipeline().replace(StartupPacketDecoder.class, "frames", new FrameDecoder(admission.maxMessageBytes()));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ClientErrors.handle(ctx.channel(), cause);
    }
}

package io.pgrelay.core.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketAddress;

/** Ends a client connection the way the server would: a FATAL ErrorResponse, then close. */
final class ClientErrors {
    private static final Logger log = LoggerFactory.getLogger("io.pgrelay.client");

    private ClientErrors() {
    }

    /** Sends a FATAL error, flushes, closes. Logs one line, never a stack trace. */
    static void fatal(Channel channel, String sqlState, String message) {
        log.info("client {}: {} ({})", remote(channel), message, sqlState);
        sendAndClose(channel, ErrorResponse.fatal(sqlState, message));
    }

    static void sendAndClose(Channel channel, ErrorResponse error) {
        if (channel.isActive()) {
            channel.writeAndFlush(Messages.encode(channel.alloc(), error)).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    /** The common exceptionCaught policy for client-side handlers. */
    static void handle(Channel channel, Throwable cause) {
        if (cause instanceof PgProtocolException protocol) {
            fatal(channel, protocol.sqlState(), protocol.getMessage());
        } else if (cause instanceof IOException) {
            log.debug("client {}: {}", remote(channel), cause.toString());
            channel.close();
        } else if (cause instanceof io.netty.handler.codec.DecoderException decoder
                && decoder.getCause() instanceof PgProtocolException protocol) {
            fatal(channel, protocol.sqlState(), protocol.getMessage());
        } else if (cause instanceof io.netty.handler.codec.DecoderException decoder
                && decoder.getCause() instanceof javax.net.ssl.SSLException) {
            log.info("client {}: TLS error: {}", remote(channel), decoder.getCause().getMessage());
            channel.close();
        } else {
            log.warn("client {}: unexpected error, closing the connection", remote(channel), cause);
            sendAndClose(channel, ErrorResponse.fatal("XX000", "internal error in pgrelay: " + cause));
        }
    }

    static SocketAddress remote(Channel channel) {
        return channel.remoteAddress();
    }
}

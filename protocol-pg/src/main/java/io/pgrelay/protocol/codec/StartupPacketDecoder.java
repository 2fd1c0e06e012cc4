package io.pgrelay.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.SqlState;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import io.pgrelay.protocol.message.frontend.GssEncRequest;
import io.pgrelay.protocol.message.frontend.SslRequest;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Terminate;

import java.util.List;

/**
 * Decodes the untyped packets a client may open a connection with: SSLRequest,
 * GSSENCRequest, CancelRequest and StartupMessage ({@code length:4 code:4 ...}), and a
 * Terminate sent instead of any of them (a client closing at once), which ends the connection
 * as quietly as the server does.
 *
 * <p>After a StartupMessage or CancelRequest it stops decoding and leaves any further
 * bytes buffered: the handler that consumes the packet replaces this decoder with a
 * {@link FrameDecoder}, which receives them. After an SSLRequest or GSSENCRequest the
 * reply has to be sent before the client may send more; bytes already buffered at that
 * point are a protocol violation (the server rejects them the same way, CVE-2021-23214).
 * After any violation the rest of the input is discarded, so it is reported only once.
 *
 * @see <a href="https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP">Start-up</a>
 */
public final class StartupPacketDecoder extends ByteToMessageDecoder {
    /** The server's own limit for a startup packet (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;

    private enum State { EXPECT_PACKET, DONE, FAILED }

    private State state = State.EXPECT_PACKET;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state == State.FAILED) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (state != State.EXPECT_PACKET || in.readableBytes() < 4) {
            return;
        }
        try {
            decodePacket(in, out);
        } catch (PgProtocolException e) {
            state = State.FAILED;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private void decodePacket(ByteBuf in, List<Object> out) {
        if (in.getByte(in.readerIndex()) == Terminate.TYPE) {
            // A client that gives up before its startup packet (no real packet starts with this length byte).
            if (in.readableBytes() < 5) {
                return;
            }
            if (in.getInt(in.readerIndex() + 1) == 4) {
                in.skipBytes(5);
                state = State.DONE;
                out.add(Terminate.INSTANCE);
                return;
            }
        }
        int length = in.getInt(in.readerIndex());
        if (length < 8 || length > MAX_STARTUP_PACKET_LENGTH) {
            throw PgProtocolException.violation("invalid length of startup packet");
        }
        if (in.readableBytes() < length) {
            return;
        }
        in.skipBytes(4);
        ByteBuf body = in.readSlice(length - 4);
        int code = body.getInt(body.readerIndex());
        if (code == SslRequest.CODE || code == GssEncRequest.CODE) {
            if (length != 8) {
                throw PgProtocolException.violation("invalid length of startup packet");
            }
            if (in.isReadable()) {
                throw PgProtocolException.violation("received unencrypted data after "
                        + (code == SslRequest.CODE ? "SSL" : "GSSAPI encryption") + " request");
            }
            out.add(code == SslRequest.CODE ? SslRequest.INSTANCE : GssEncRequest.INSTANCE);
        } else if (code == CancelRequest.CODE) {
            state = State.DONE;
            out.add(CancelRequest.decode(body));
        } else if ((code >>> 16) == 3) {
            state = State.DONE;
            out.add(StartupMessage.decode(body));
        } else {
            throw new PgProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xffff)
                            + ": server supports 3.0 to 3.0");
        }
    }
}

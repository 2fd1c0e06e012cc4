package io.pgrelay.protocol.message;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.backend.Authentication;
import io.pgrelay.protocol.message.backend.BackendKeyData;
import io.pgrelay.protocol.message.backend.BindComplete;
import io.pgrelay.protocol.message.backend.CloseComplete;
import io.pgrelay.protocol.message.backend.CommandComplete;
import io.pgrelay.protocol.message.backend.CopyBothResponse;
import io.pgrelay.protocol.message.backend.CopyInResponse;
import io.pgrelay.protocol.message.backend.CopyOutResponse;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.EmptyQueryResponse;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.NegotiateProtocolVersion;
import io.pgrelay.protocol.message.backend.NoData;
import io.pgrelay.protocol.message.backend.NoticeResponse;
import io.pgrelay.protocol.message.backend.NotificationResponse;
import io.pgrelay.protocol.message.backend.ParameterDescription;
import io.pgrelay.protocol.message.backend.ParameterStatus;
import io.pgrelay.protocol.message.backend.ParseComplete;
import io.pgrelay.protocol.message.backend.PortalSuspended;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.RowDescription;
import io.pgrelay.protocol.message.frontend.Bind;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import io.pgrelay.protocol.message.frontend.Close;
import io.pgrelay.protocol.message.frontend.CopyData;
import io.pgrelay.protocol.message.frontend.CopyDone;
import io.pgrelay.protocol.message.frontend.CopyFail;
import io.pgrelay.protocol.message.frontend.Describe;
import io.pgrelay.protocol.message.frontend.Execute;
import io.pgrelay.protocol.message.frontend.Flush;
import io.pgrelay.protocol.message.frontend.FramePeek;
import io.pgrelay.protocol.message.frontend.GssEncRequest;
import io.pgrelay.protocol.message.frontend.Parse;
import io.pgrelay.protocol.message.frontend.PasswordMessage;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.protocol.message.frontend.SaslInitialResponse;
import io.pgrelay.protocol.message.frontend.SaslResponse;
import io.pgrelay.protocol.message.frontend.SslRequest;
import io.pgrelay.protocol.message.frontend.StartupMessage;
import io.pgrelay.protocol.message.frontend.Sync;
import io.pgrelay.protocol.message.frontend.Terminate;
import io.pgrelay.testing.FuzzStreams;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes every typed message decoder. Input: byte 0 the message type, the rest its body (the
 * seeds are the frames of captured psql, pgjdbc and pgbench sessions). A decoder either fails
 * with a {@link PgProtocolException} or returns a message that encodes to a frame of that type
 * which decodes and encodes again to the same bytes. For frontend frames, {@link FramePeek}
 * reads the same names and SQL as the decoder from any frame the decoder accepts.
 *
 * <p>The untyped start-up packets take the pseudo types 0 to 3 (StartupMessage, CancelRequest,
 * SSLRequest, GSSENCRequest), the body being the packet after its length.
 */
public class MessageDecodeFuzzTest {
    private static final Map<Byte, List<Function<ByteBuf, ? extends Message>>> FRONTEND = Map.ofEntries(
            Map.entry(Query.TYPE, List.of(Query::decode)),
            Map.entry(Parse.TYPE, List.of(Parse::decode)),
            Map.entry(Bind.TYPE, List.of(Bind::decode)),
            Map.entry(Describe.TYPE, List.of(Describe::decode)),
            Map.entry(Execute.TYPE, List.of(Execute::decode)),
            Map.entry(Close.TYPE, List.of(Close::decode)),
            Map.entry(Sync.TYPE, List.of(Sync::decode)),
            Map.entry(Flush.TYPE, List.of(Flush::decode)),
            Map.entry(Terminate.TYPE, List.of(Terminate::decode)),
            Map.entry(CopyData.TYPE, List.of(CopyData::decode)),
            Map.entry(CopyDone.TYPE, List.of(CopyDone::decode)),
            Map.entry(CopyFail.TYPE, List.of(CopyFail::decode)),
            Map.entry(PasswordMessage.TYPE, List.of(PasswordMessage::decode, SaslInitialResponse::decode,
                    SaslResponse::decode)),
            Map.entry((byte) 0, List.of(StartupMessage::decode)),
            Map.entry((byte) 1, List.of(CancelRequest::decode)),
            Map.entry((byte) 2, List.of(SslRequest::decode)),
            Map.entry((byte) 3, List.of(GssEncRequest::decode)));

    private static final Map<Byte, List<Function<ByteBuf, ? extends Message>>> BACKEND = Map.ofEntries(
            Map.entry(Authentication.TYPE, List.of(Authentication::decode)),
            Map.entry(BackendKeyData.TYPE, List.of(BackendKeyData::decode)),
            Map.entry(BindComplete.TYPE, List.of(BindComplete::decode)),
            Map.entry(CloseComplete.TYPE, List.of(CloseComplete::decode)),
            Map.entry(CommandComplete.TYPE, List.of(CommandComplete::decode)),
            Map.entry(CopyBothResponse.TYPE, List.of(CopyBothResponse::decode)),
            Map.entry(CopyInResponse.TYPE, List.of(CopyInResponse::decode)),
            Map.entry(CopyOutResponse.TYPE, List.of(CopyOutResponse::decode)),
            Map.entry(CopyData.TYPE, List.of(CopyData::decode)),
            Map.entry(CopyDone.TYPE, List.of(CopyDone::decode)),
            Map.entry(DataRow.TYPE, List.of(DataRow::decode)),
            Map.entry(EmptyQueryResponse.TYPE, List.of(EmptyQueryResponse::decode)),
            Map.entry(ErrorResponse.TYPE, List.of(ErrorResponse::decode)),
            Map.entry(NegotiateProtocolVersion.TYPE, List.of(NegotiateProtocolVersion::decode)),
            Map.entry(NoData.TYPE, List.of(NoData::decode)),
            Map.entry(NoticeResponse.TYPE, List.of(NoticeResponse::decode)),
            Map.entry(NotificationResponse.TYPE, List.of(NotificationResponse::decode)),
            Map.entry(ParameterDescription.TYPE, List.of(ParameterDescription::decode)),
            Map.entry(ParameterStatus.TYPE, List.of(ParameterStatus::decode)),
            Map.entry(ParseComplete.TYPE, List.of(ParseComplete::decode)),
            Map.entry(PortalSuspended.TYPE, List.of(PortalSuspended::decode)),
            Map.entry(ReadyForQuery.TYPE, List.of(ReadyForQuery::decode)),
            Map.entry(RowDescription.TYPE, List.of(RowDescription::decode)));

    @FuzzTest
    void frontend(byte[] input) {
        runFrontend(input);
    }

    @FuzzTest
    void backend(byte[] input) {
        runBackend(input);
    }

    /** One execution of {@link #frontend}; also driven by {@link io.pgrelay.protocol.DecodersFuzzTest}. */
    public static void runFrontend(byte[] input) {
        for (Message message : decodeAll(FRONTEND, input)) {
            if (input[0] > 3) {
                checkPeek(frame(input), message);
            }
        }
    }

    /** One execution of {@link #backend}; also driven by {@link io.pgrelay.protocol.DecodersFuzzTest}. */
    public static void runBackend(byte[] input) {
        decodeAll(BACKEND, input);
    }

    /** Runs the decoders of the input's type; returns what they accepted, each checked to re-encode stably. */
    private static List<Message> decodeAll(Map<Byte, List<Function<ByteBuf, ? extends Message>>> decoders,
                                           byte[] input) {
        if (input.length == 0 || !decoders.containsKey(input[0])) {
            return List.of();
        }
        byte type = input[0];
        List<Message> accepted = new java.util.ArrayList<>();
        for (Function<ByteBuf, ? extends Message> decoder : decoders.get(type)) {
            Message message = decode(decoder, Unpooled.wrappedBuffer(input, 1, input.length - 1));
            if (message == null) {
                continue;
            }
            byte[] encoded = encode(message);
            if (type > 3) {
                assertThat(encoded[0]).as("type of re-encoded %s", message).isEqualTo(type);
                assertThat(readInt(encoded, 1)).as("length of re-encoded %s", message).isEqualTo(encoded.length - 1);
            } else {
                assertThat(readInt(encoded, 0)).as("length of re-encoded %s", message).isEqualTo(encoded.length);
            }
            int bodyStart = type > 3 ? Wire.HEADER_LENGTH : 4;
            Message again = decode(decoder, Unpooled.wrappedBuffer(encoded, bodyStart, encoded.length - bodyStart));
            assertThat(again).as("re-encoded %s decodes", message).isNotNull();
            assertThat(encode(again)).as("%s encodes stably", message).isEqualTo(encoded);
            accepted.add(message);
        }
        return accepted;
    }

    /** The decoded message, or null if the decoder refused the body with a protocol error. */
    private static Message decode(Function<ByteBuf, ? extends Message> decoder, ByteBuf body) {
        try {
            return decoder.apply(body);
        } catch (PgProtocolException e) {
            FuzzStreams.assertSqlState(e);
            return null;
        }
    }

    private static byte[] encode(Message message) {
        ByteBuf out = FuzzStreams.untrackedBuffer();
        try {
            message.encode(out);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    private static ByteBuf frame(byte[] input) {
        ByteBuf frame = FuzzStreams.untrackedBuffer();
        frame.writeByte(input[0]).writeInt(input.length + 3).writeBytes(input, 1, input.length - 1);
        return frame;
    }

    /** What FramePeek reads from the raw frame agrees with the decoded message. */
    private static void checkPeek(ByteBuf frame, Message message) {
        try {
            if (message instanceof Query query) {
                assertThat(text(frame, FramePeek.querySqlStart(frame), FramePeek.querySqlLength(frame)))
                        .isEqualTo(query.sql());
            } else if (message instanceof Parse parse) {
                assertThat(FramePeek.parseName(frame)).isEqualTo(parse.name());
                assertThat(text(frame, FramePeek.parseSqlStart(frame), FramePeek.parseSqlLength(frame)))
                        .isEqualTo(parse.sql());
            } else if (message instanceof Bind bind) {
                assertThat(FramePeek.bindPortal(frame)).isEqualTo(bind.portal());
                assertThat(FramePeek.bindStatement(frame)).isEqualTo(bind.statement());
            } else if (message instanceof Describe describe) {
                assertThat(FramePeek.target(frame)).isEqualTo(describe.kind());
                assertThat(FramePeek.targetName(frame)).isEqualTo(describe.name());
            } else if (message instanceof Close close) {
                assertThat(FramePeek.target(frame)).isEqualTo(close.kind());
                assertThat(FramePeek.targetName(frame)).isEqualTo(close.name());
            } else if (message instanceof Execute execute) {
                assertThat(FramePeek.executePortal(frame)).isEqualTo(execute.portal());
            }
        } finally {
            frame.release();
        }
    }

    private static String text(ByteBuf frame, int start, int length) {
        return frame.toString(start, length, StandardCharsets.UTF_8);
    }

    private static int readInt(byte[] bytes, int at) {
        return ((bytes[at] & 0xff) << 24) | ((bytes[at + 1] & 0xff) << 16) | ((bytes[at + 2] & 0xff) << 8)
                | (bytes[at + 3] & 0xff);
    }
}

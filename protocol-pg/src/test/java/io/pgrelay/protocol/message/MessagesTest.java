package io.pgrelay.protocol.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.frontend.CopyData;
import io.pgrelay.protocol.message.frontend.Sync;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessagesTest {
    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;

    @Test
    void encodesMessagesOfEitherDirection() {
        assertEncoded(Sync.INSTANCE, of('S', i32(4)));
        assertEncoded(ReadyForQuery.IDLE, of('Z', i32(5), 'I'));
        assertEncoded(new CopyData(new byte[] {7}), of('d', i32(5), 7));
    }

    @Test
    void releasesTheBufferWhenEncodingFails() {
        AtomicReference<ByteBuf> seen = new AtomicReference<>();
        Message failing = out -> {
            seen.set(out);
            out.writeByte(1);
            throw new IllegalStateException("boom");
        };
        assertThatThrownBy(() -> Messages.encode(alloc, failing)).hasMessage("boom");
        assertThat(seen.get().refCnt()).isZero();
    }

    private void assertEncoded(Message message, byte[] expected) {
        ByteBuf buf = Messages.encode(alloc, message);
        try {
            assertThat(ByteBufUtil.getBytes(buf)).isEqualTo(expected);
        } finally {
            buf.release();
        }
    }
}

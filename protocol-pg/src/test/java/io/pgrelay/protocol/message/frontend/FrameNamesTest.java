package io.pgrelay.protocol.message.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class FrameNamesTest {
    private static ByteBuf bytes(String text) {
        return Unpooled.copiedBuffer("xx" + text + "yy", StandardCharsets.UTF_8);
    }

    @Test
    void aNameSeenBeforeIsTheSameString() {
        FrameNames names = new FrameNames();
        String first = names.text(bytes("P0_1"), 2, 6);
        assertThat(first).isEqualTo("P0_1");
        assertThat(names.text(bytes("P0_1"), 2, 6)).isSameAs(first);
        assertThat(names.text(bytes("P0_2"), 2, 6)).isEqualTo("P0_2").isNotSameAs(first);
        assertThat(names.text(bytes(""), 2, 2)).isEmpty();
    }

    @Test
    void namesAreUtf8AndOldOnesAreReplacedInTurn() {
        FrameNames names = new FrameNames();
        int len = "é1".getBytes(StandardCharsets.UTF_8).length;
        assertThat(names.text(bytes("é1"), 2, 2 + len)).isEqualTo("é1");
        for (int i = 0; i < 20; i++) {
            assertThat(names.text(bytes("s" + (i % 10)), 2, 4)).isEqualTo("s" + (i % 10));
        }
        assertThat(names.text(bytes("é1"), 2, 2 + len)).isEqualTo("é1");
    }
}

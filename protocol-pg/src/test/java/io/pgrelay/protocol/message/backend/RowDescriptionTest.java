package io.pgrelay.protocol.message.backend;

import io.pgrelay.protocol.message.backend.RowDescription.Field;
import io.pgrelay.testing.Bytes;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i16;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class RowDescriptionTest {
    private static final byte[] TEXT_NAME_VALUE = of('T', i32(53), i16(2),
            "name", 0, i32(0), i16(0), i32(25), i16(-1), i32(-1), i16(0),
            "value", 0, i32(0), i16(0), i32(25), i16(-1), i32(-1), i16(0));

    @Test
    void textColumns() {
        RowDescription decoded = assertRoundTrip(RowDescription.ofText("name", "value"), TEXT_NAME_VALUE,
                RowDescription::decode);
        assertThat(decoded.fields()).extracting(Field::name).containsExactly("name", "value");
    }

    @Test
    void tableColumn() {
        Field id = new Field("id", 16384, (short) 1, 23, (short) 4, -1, (short) 1);
        RowDescription decoded = assertRoundTrip(new RowDescription(List.of(id)),
                of('T', i32(27), i16(1), "id", 0, i32(16384), i16(1), i32(23), i16(4), i32(-1), i16(1)),
                RowDescription::decode);
        assertThat(decoded.fields()).containsExactly(id);
    }

    @Test
    void int8Column() {
        RowDescription decoded = assertRoundTrip(new RowDescription(List.of(Field.text("name"), Field.int8("n"))),
                of('T', i32(49), i16(2),
                        "name", 0, i32(0), i16(0), i32(25), i16(-1), i32(-1), i16(0),
                        "n", 0, i32(0), i16(0), i32(20), i16(8), i32(-1), i16(0)),
                RowDescription::decode);
        assertThat(decoded.fields().get(1).typeOid()).isEqualTo(RowDescription.INT8_OID);
    }

    @Test
    void noColumns() {
        assertRoundTrip(new RowDescription(List.of()), of('T', i32(6), i16(0)), RowDescription::decode);
    }

    @Test
    void malformed() {
        byte[] body = Bytes.from(TEXT_NAME_VALUE, 5);
        assertTruncationsFail(RowDescription::decode, body);
        assertTrailingByteFails(RowDescription::decode, body);
    }
}

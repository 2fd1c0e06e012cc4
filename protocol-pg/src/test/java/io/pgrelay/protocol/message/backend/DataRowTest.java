package io.pgrelay.protocol.message.backend;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.pgrelay.protocol.message.MessageAssertions.*;
import static io.pgrelay.testing.Bytes.i16;
import static io.pgrelay.testing.Bytes.i32;
import static io.pgrelay.testing.Bytes.of;
import static org.assertj.core.api.Assertions.assertThat;

class DataRowTest {
    private static final byte[] BODY = of(i16(3), i32(1), "1", i32(-1), i32(2), 0xc3, 0xa9);

    @Test
    void textValuesAndNull() {
        DataRow decoded = assertRoundTrip(DataRow.ofText("1", null, "é"), of('D', i32(21), BODY), DataRow::decode);
        assertThat(decoded.size()).isEqualTo(3);
        assertThat(decoded.text(0)).isEqualTo("1");
        assertThat(decoded.text(1)).isNull();
        assertThat(decoded.values().get(1)).isNull();
        assertThat(decoded.text(2)).isEqualTo("é");
        assertThat(decoded.textValues()).containsExactly("1", null, "é");
    }

    @Test
    void emptyIsNotNull() {
        DataRow empty = assertRoundTrip(DataRow.ofText(""), of('D', i32(10), i16(1), i32(0)), DataRow::decode);
        assertThat(empty).isNotEqualTo(DataRow.ofText((String) null));
    }

    @Test
    void isImmutable() {
        byte[] value = {'a'};
        DataRow row = new DataRow(List.of(value));
        value[0] = 'b';
        row.values().get(0)[0] = 'c';
        assertThat(row.text(0)).isEqualTo("a");
        assertThat(row.toString()).isEqualTo("DataRow{1 bytes}");
    }

    @Test
    void malformed() {
        assertTruncationsFail(DataRow::decode, BODY);
        assertTrailingByteFails(DataRow::decode, BODY);
        assertViolation(DataRow::decode, of(i16(1), i32(-2))).hasMessage("insufficient data left in message");
    }
}

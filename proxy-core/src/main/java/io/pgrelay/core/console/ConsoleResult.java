package io.pgrelay.core.console;

import io.netty.buffer.ByteBuf;
import io.pgrelay.protocol.message.backend.CommandComplete;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.RowDescription;
import io.pgrelay.protocol.message.backend.RowDescription.Field;

import java.util.ArrayList;
import java.util.List;

/** A result set the console builds: columns (text or bigint), rows of text values, a tag. */
final class ConsoleResult {
    private final List<Field> fields = new ArrayList<>();
    private final List<String[]> rows = new ArrayList<>();
    private final String tag;
    private boolean commandOnly;

    ConsoleResult(String tag) {
        this.tag = tag;
    }

    /** A command that returns no rows: only CommandComplete is sent. */
    static ConsoleResult commandOnly(String tag) {
        ConsoleResult result = new ConsoleResult(tag);
        result.commandOnly = true;
        return result;
    }

    ConsoleResult text(String... names) {
        for (String name : names) {
            fields.add(Field.text(name));
        }
        return this;
    }

    ConsoleResult number(String... names) {
        for (String name : names) {
            fields.add(Field.int8(name));
        }
        return this;
    }

    /** One row; values are shown with {@link String#valueOf}, null stays SQL NULL. */
    ConsoleResult row(Object... values) {
        if (values.length != fields.size()) {
            throw new IllegalArgumentException(values.length + " values for " + fields.size() + " columns");
        }
        String[] texts = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            texts[i] = values[i] == null ? null : String.valueOf(values[i]);
        }
        rows.add(texts);
        return this;
    }

    List<String[]> rows() {
        return rows;
    }

    /** RowDescription, DataRows, CommandComplete. */
    void encode(ByteBuf out) {
        if (commandOnly) {
            new CommandComplete(tag).encode(out);
            return;
        }
        new RowDescription(fields).encode(out);
        for (String[] row : rows) {
            DataRow.ofText(row).encode(out);
        }
        new CommandComplete(tag).encode(out);
    }
}

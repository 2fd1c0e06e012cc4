package io.pgrelay.core.coordination;

import java.util.List;

/**
 * The live pgrelay instances as one instance sees them now.
 *
 * @param mode    whether the instances coordinate (and so whether {@code members} came from etcd)
 * @param selfId  this instance's id; null before it started
 * @param members every live instance this one knows of, this one included once registered, ordered by id
 */
public record Membership(Mode mode, String selfId, List<ProxyMember> members) {
    public enum Mode {
        /** No {@code coordination} key: this instance alone. */
        STANDALONE,
        /** Registered in etcd under a lease; members are the keys under {@code <prefix>/members/}. */
        ETCD
    }

    public Membership {
        members = List.copyOf(members);
    }

    public boolean coordinated() {
        return mode != Mode.STANDALONE;
    }

    public boolean isSelf(ProxyMember member) {
        return member.id().equals(selfId);
    }
}

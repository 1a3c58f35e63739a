package pgstore

// ChannelName is channelName, for tests that listen to a store's
// notifications.
var ChannelName = channelName
